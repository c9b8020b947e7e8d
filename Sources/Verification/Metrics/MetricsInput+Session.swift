import Journal
import Reasoning

extension MetricsInput {
    /// The values of a replayed session journal: problems in load order, solutions in problem
    /// then arrival order, their critiques in arrival order (so a re-run critique comes later
    /// and wins), comparisons, and the annotations still in force.
    public init(session: SessionState) {
        self.init(problems: session.problems, solutions: session.allSolutions,
                  critiques: session.allCritiques, comparisons: session.allComparisons,
                  annotations: session.allAnnotations)
    }
}
