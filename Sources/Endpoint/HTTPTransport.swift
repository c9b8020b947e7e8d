import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What a transport call reports, in order: the status once, body bytes as they arrive, then
/// the end (nil: the body is complete; an error: the connection failed, timed out or was
/// cancelled).
protocol HTTPCallHandler: AnyObject, Sendable {
    func received(status: Int)
    func received(_ data: Data)
    func finished(error: Error?)
}

/// Foundation's URLSession driving many streamed requests at once through one delegate (the
/// completion-handler API would hold a whole body back until its end, and the async byte
/// streams are not available in FoundationNetworking). Callbacks of all calls come on one
/// serial queue, so a handler sees its own callbacks one at a time and in order.
final class HTTPTransport: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    private var session: URLSession!
    private let lock = NSLock()
    private var handlers: [Int: HTTPCallHandler] = [:]

    init(maxConnections: Int) {
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.httpMaximumConnectionsPerHost = maxConnections
        // Idle limits are per request (URLRequest.timeoutInterval); a long generation on a busy
        // server may legitimately take many minutes in all.
        configuration.timeoutIntervalForResource = 24 * 3600
        configuration.requestCachePolicy = .reloadIgnoringLocalCacheData
        configuration.urlCache = nil
        let queue = OperationQueue()
        queue.maxConcurrentOperationCount = 1
        queue.name = "stepwise-endpoint-http"
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: queue)
    }

    /// Starts a request; the handler hears everything about it. Returns the task (cancel it to
    /// close the connection).
    func start(_ request: URLRequest, handler: HTTPCallHandler) -> URLSessionDataTask {
        let task = session.dataTask(with: request)
        lock.lock()
        handlers[task.taskIdentifier] = handler
        lock.unlock()
        task.resume()
        return task
    }

    /// Ends the session; calls under way are cancelled.
    func invalidate() {
        session.invalidateAndCancel()
    }

    private func handler(_ task: URLSessionTask) -> HTTPCallHandler? {
        lock.lock()
        defer { lock.unlock() }
        return handlers[task.taskIdentifier]
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping (URLSession.ResponseDisposition) -> Void) {
        handler(dataTask)?.received(status: (response as? HTTPURLResponse)?.statusCode ?? 0)
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        handler(dataTask)?.received(data)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: Error?) {
        lock.lock()
        let h = handlers.removeValue(forKey: task.taskIdentifier)
        lock.unlock()
        h?.finished(error: error)
    }
}
