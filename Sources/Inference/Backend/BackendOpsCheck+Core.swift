// Backend-ops cases for the ops other than embedding and matrix products.

extension BackendOpsCheck {
    static func coreCases() -> [BackendOpCase] {
        []
    }
}
