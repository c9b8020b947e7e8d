import Foundation
import Inference
import Reasoning

/// What a run does for each problem.
public struct LoopConfiguration: Sendable, Equatable {
    /// First attempts per problem (round 0).
    public var samples: Int
    /// Refinement rounds after round 0 at most (0: sample and verify only).
    public var rounds: Int
    /// Verifiers run on every attempt of every round (tournament: over each round's attempts).
    public var verifiers: [VerifierKind]
    /// Also run each verifier shown the reference solution.
    public var informed: Bool
    /// The verifier whose judgement decides acceptance and whose critique the generator sees
    /// when it rewrites an attempt. Run on every attempt even when not among `verifiers`.
    public var refineWith: VerifierID
    /// Run every tournament pairing in both orders (to measure position bias).
    public var tournamentBothOrders: Bool
    /// The base seed every sampling seed is derived from.
    public var seed: UInt64
    /// Sampling of solutions and refinements (its seed is replaced per request).
    public var sampling: SamplingParameters
    /// Sampling of verifier answers: greedy unless set otherwise.
    public var verifierSampling: SamplingParameters

    public init(samples: Int = 4, rounds: Int = 1, verifiers: [VerifierKind] = [.critique], informed: Bool = false,
                refineWith: VerifierID = VerifierID(.critique), tournamentBothOrders: Bool = false, seed: UInt64 = 0,
                sampling: SamplingParameters = SamplingParameters(temperature: 0.7, maxTokens: 256),
                verifierSampling: SamplingParameters = SamplingParameters(temperature: 0, maxTokens: 256)) {
        self.samples = samples
        self.rounds = rounds
        self.verifiers = verifiers
        self.informed = informed
        self.refineWith = refineWith
        self.tournamentBothOrders = tournamentBothOrders
        self.seed = seed
        self.sampling = sampling
        self.verifierSampling = verifierSampling
    }

    /// A one-line problem with the values, or nil when they are usable.
    public func problem() -> String? {
        if samples < 1 || samples > 64 { return "samples \(samples) must be in 1...64" }
        if rounds < 0 || rounds > 20 { return "rounds \(rounds) must be in 0...20" }
        if refineWith.kind == .tournament { return "a tournament cannot drive refinement: it ranks attempts, it does not critique one" }
        if let p = sampling.problem() { return p }
        if let p = verifierSampling.problem() { return "verifier sampling: \(p)" }
        return nil
    }

    /// The per-attempt verifiers run each round: the chosen ones (tournament aside), blind, and
    /// informed when asked, plus the refinement verifier; in a stable order.
    public var attemptVerifiers: [VerifierID] {
        var ids: [VerifierID] = []
        for kind in verifiers where kind != .tournament {
            ids.append(VerifierID(kind))
            if informed { ids.append(VerifierID(kind, informed: true)) }
        }
        if !ids.contains(refineWith) { ids.append(refineWith) }
        return ids.sorted()
    }

    public var runsTournament: Bool { verifiers.contains(.tournament) }

    /// The settings as the journal header records them.
    public var settings: [String: String] {
        var s: [String: String] = [
            "samples": String(samples), "rounds": String(rounds),
            "verifiers": verifiers.map(\.rawValue).joined(separator: ","), "informed": String(informed),
            "refine-with": refineWith.description, "seed": String(seed),
            "temperature": String(sampling.temperature), "top-p": String(sampling.topP),
            "max-tokens": String(sampling.maxTokens),
        ]
        if tournamentBothOrders { s["tournament-both-orders"] = "true" }
        return s
    }
}

/// Deterministic names and seeds, so that a rerun finds what an earlier run finished and
/// samples exactly what it would have sampled.
public enum LoopIDs {
    /// First attempt `i` of a problem.
    public static func sample(problem: String, index: Int) -> String { "\(problem)/s\(index)" }
    /// The rewrite of `parent` made in `round`.
    public static func refinement(parent: String, round: Int) -> String { "\(parent)/r\(round)" }
    /// A verifier's critique of a solution.
    public static func critique(solution: String, verifier: VerifierID) -> String {
        "\(solution)/\(verifier.kind.rawValue)/\(verifier.informed ? "informed" : "blind")"
    }

    /// 64-bit FNV-1a of a name: seeds depend on the name only, not on what else is in the run.
    public static func hash(_ name: String) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in name.utf8 {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01b3
        }
        return h
    }

    /// Seed of first attempt 0 of a problem; attempt i uses this plus i (the engine's rule for a
    /// request of n samples, so one request of n and n requests of one give the same samples).
    public static func sampleSeed(base: UInt64, problem: String) -> UInt64 { base &+ hash(problem) }
    /// Seed of the rewrite `id`.
    public static func refinementSeed(base: UInt64, id: String) -> UInt64 { base &+ hash(id) }
    /// Seed of a verifier's answer `id` (a critique id, or a comparison's name).
    public static func verifierSeed(base: UInt64, id: String) -> UInt64 { base &+ hash("verify:" + id) }
}
