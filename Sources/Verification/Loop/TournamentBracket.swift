import Foundation
import Reasoning

/// Single-elimination over a round's attempts with the pairwise prompt. Entrants are paired in
/// order at each level (1st v 2nd, 3rd v 4th, …); with 2^k entrants that is the classic bracket,
/// otherwise the odd one out gets a bye to the next level. A pair whose comparison could not be
/// read, or (with both orders) whose two orders disagree, sends neither attempt on: a verdict
/// that flips with the order is no verdict, and nothing is guessed.
public enum TournamentBracket {
    public struct Pairing: Hashable, Sendable {
        public var first: String
        public var second: String
    }

    /// The pairs of one level, and the entrant with a bye.
    public static func pairings(_ entrants: [String]) -> (pairs: [Pairing], bye: String?) {
        var pairs: [Pairing] = []
        var i = 0
        while i + 1 < entrants.count {
            pairs.append(Pairing(first: entrants[i], second: entrants[i + 1]))
            i += 2
        }
        return (pairs, entrants.count % 2 == 1 ? entrants.last : nil)
    }

    /// The comparisons a pairing needs: shown in order, and reversed when both orders are asked.
    public static func orders(_ pair: Pairing, bothOrders: Bool) -> [Pairing] {
        bothOrders ? [pair, Pairing(first: pair.second, second: pair.first)] : [pair]
    }

    /// Who goes on from a pairing, given the winners named by its comparisons (nil: unreadable
    /// or missing). Every comparison must be readable and name the same attempt.
    public static func advancing(_ winners: [String?]) -> String? {
        guard !winners.isEmpty else { return nil }
        let read = winners.compactMap { $0 }
        guard read.count == winners.count, let w = read.first, read.allSatisfy({ $0 == w }) else { return nil }
        return w
    }

    /// The entrants of the next level: the pairs' winners in order, then the bye.
    public static func nextLevel(winners: [String?], bye: String?) -> [String] {
        winners.compactMap { $0 } + (bye.map { [$0] } ?? [])
    }

    /// The attempt a comparison's answer names.
    public static func winner(of preference: VerifierOutputParser.Preference?, first: String, second: String) -> String? {
        switch preference {
        case .first?: return first
        case .second?: return second
        case nil: return nil
        }
    }
}
