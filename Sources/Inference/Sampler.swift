import Foundation

/// A small, fast, seedable generator (xoshiro256**, seeded through SplitMix64) so a sample's
/// draws depend only on its seed — not on the platform's generator or on other samples.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var x = seed
        func splitMix() -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(), splitMix(), splitMix(), splitMix())
    }

    public mutating func next() -> UInt64 {
        let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = s.3 << 45 | s.3 >> 19
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUnitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// Chooses tokens from logits. One sampler per sample: it owns that sample's generator.
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var generator: SeededGenerator

    public init(parameters: SamplingParameters, sampleIndex: Int = 0) {
        self.parameters = parameters
        self.generator = SeededGenerator(seed: parameters.seed &+ UInt64(truncatingIfNeeded: sampleIndex))
    }

    /// The chosen token, with its log-probability under the unmodified distribution.
    public mutating func choose(from logits: UnsafeBufferPointer<Float>) -> (token: Int32, logprob: Double) {
        let token = parameters.temperature == 0 ? Sampler.argmax(logits) : draw(logits)
        let logZ = Sampler.logSumExp(logits)
        return (Int32(token), Double(logits[token]) - logZ)
    }

    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue {
            best = i
            bestValue = logits[i]
        }
        return best
    }

    public static func logSumExp(_ logits: UnsafeBufferPointer<Float>) -> Double {
        var maximum = -Float.infinity
        for value in logits { maximum = max(maximum, value) }
        guard maximum.isFinite else { return Double(maximum) }
        var sum = 0.0
        for value in logits where value - maximum > -40 { sum += exp(Double(value - maximum)) }
        return Double(maximum) + log(sum)
    }

    /// The `k` highest log-probabilities, best first (ties: lower id first).
    public static func topLogprobs(_ logits: UnsafeBufferPointer<Float>, k: Int) -> [(token: Int32, logprob: Double)] {
        guard k > 0 else { return [] }
        let logZ = logSumExp(logits)
        // A small insertion-sorted list is cheaper than sorting the vocabulary.
        var top: [(Int, Float)] = []
        top.reserveCapacity(k + 1)
        for i in 0..<logits.count {
            let v = logits[i]
            if top.count == k, let last = top.last, v <= last.1 { continue }
            var at = top.count
            while at > 0 && top[at - 1].1 < v { at -= 1 }
            top.insert((i, v), at: at)
            if top.count > k { top.removeLast() }
        }
        return top.map { (Int32($0.0), Double($0.1) - logZ) }
    }

    /// A subset of `candidates` that surely contains the top-k / top-p survivors, so only it
    /// needs sorting (a 150k-token vocabulary sorted per token per sample would cost more than
    /// the model's step). Every token left out weighs less than every token kept, so the kept
    /// set holds the same best-first prefix as the full sorted list.
    static func likeliest(_ candidates: [(token: Int, weight: Double)], topK: Int, topP: Double) -> [(token: Int, weight: Double)] {
        let total = candidates.reduce(0) { $0 + $1.weight }
        var threshold = 1e-3   // weights are relative to the best token (which weighs 1)
        while threshold > 1e-12 {
            let kept = candidates.filter { $0.weight >= threshold }
            let mass = kept.reduce(0) { $0 + $1.weight }
            let enoughForK = topK > 0 && kept.count >= topK
            let enoughForP = topK == 0 && mass >= topP * total
            if enoughForK || enoughForP || kept.count == candidates.count { return kept }
            threshold *= 1e-3
        }
        return candidates
    }

    /// Temperature, then min-p, top-k and top-p, then one draw from what remains.
    private mutating func draw(_ logits: UnsafeBufferPointer<Float>) -> Int {
        let p = parameters
        let inverseT = 1.0 / p.temperature
        var maximum = -Float.infinity
        for value in logits { maximum = max(maximum, value) }
        // Unnormalised probabilities relative to the best token (the best has weight 1).
        var candidates: [(token: Int, weight: Double)] = []
        candidates.reserveCapacity(logits.count)
        let minWeight = p.minP  // min-p relative to the top token is a threshold on these weights
        // Tokens more than 40 nats below the best weigh < 5e-18 each: skipping them (and their
        // exp) changes no draw in practice and saves most of the work on a 150k vocabulary.
        let cutoff = Float(-40 * p.temperature)
        for i in 0..<logits.count {
            let shifted = logits[i] - maximum
            guard shifted > cutoff else { continue }
            let w = exp(Double(shifted) * inverseT)
            if w >= minWeight { candidates.append((i, w)) }
        }
        let needsOrder = p.topK > 0 || p.topP < 1
        if needsOrder {
            // Top-p's mass is the whole distribution's, or the top-k survivors' when both apply.
            let fullMass = candidates.reduce(0) { $0 + $1.weight }
            candidates = Sampler.likeliest(candidates, topK: p.topK, topP: p.topP)
            candidates.sort { $0.weight != $1.weight ? $0.weight > $1.weight : $0.token < $1.token }
            if p.topK > 0 && candidates.count > p.topK {
                candidates.removeSubrange(p.topK...)
            }
            if p.topP < 1 {
                let total = p.topK > 0 ? candidates.reduce(0) { $0 + $1.weight } : fullMass
                var cumulative = 0.0
                var keep = candidates.count
                for (i, c) in candidates.enumerated() {
                    cumulative += c.weight
                    if cumulative >= p.topP * total {
                        keep = i + 1
                        break
                    }
                }
                candidates.removeSubrange(keep...)
            }
        }
        let total = candidates.reduce(0) { $0 + $1.weight }
        var target = generator.nextUnitDouble() * total
        for c in candidates {
            target -= c.weight
            if target < 0 { return c.token }
        }
        return candidates.last?.token ?? Sampler.argmax(logits)
    }
}
