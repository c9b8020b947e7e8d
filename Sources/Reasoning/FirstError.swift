/// The first-error label a set of step annotations amounts to, in ProcessBench's sense.
public enum FirstErrorLabel: Sendable, Hashable {
    /// No annotation touches this solution.
    case unlabelled
    /// Every step is rated and none is wrong.
    case noError
    /// The 0-based index of the earliest wrong step.
    case step(Int)

    /// ProcessBench's integer form: the step index, −1 for none; nil when unlabelled.
    public var processBenchLabel: Int? {
        switch self {
        case .unlabelled: return nil
        case .noError: return -1
        case .step(let i): return i
        }
    }

    /// Folds the annotations of one solution (already filtered to the source of interest) into
    /// a label. A step counts as wrong if it is marked as the first error or rated −1; a
    /// solution whose steps are all rated and none wrong has no error. Partial labels without a
    /// wrong step stay unlabelled: absence of a mark is not evidence of correctness.
    public static func from(annotations: [Annotation], stepCount: Int) -> FirstErrorLabel {
        guard !annotations.isEmpty else { return .unlabelled }
        let wrong = annotations.filter { $0.firstError || $0.rating == .bad }.map(\.stepIndex)
        if let first = wrong.min() { return .step(first) }
        let rated = Set(annotations.compactMap { $0.rating != nil ? $0.stepIndex : nil })
        if stepCount > 0 && (0..<stepCount).allSatisfy(rated.contains) { return .noError }
        return .unlabelled
    }
}
