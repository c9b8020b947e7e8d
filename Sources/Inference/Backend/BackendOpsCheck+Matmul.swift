// Backend-ops cases for embedding lookup and matrix products of every weight format.

extension BackendOpsCheck {
    static func matmulCases() -> [BackendOpCase] {
        []
    }
}
