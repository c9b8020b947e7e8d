/// The prompts Stepwise ships. Base models get raw few-shot text (as the "Mind the Gap" paper
/// prompts them); chat models get the same task text as a user message (the chat template
/// comes from the model). Verifier prompts show a solution as numbered steps (`Step 1: …`) so
/// a critique can name a step by its number; reference-informed variants add the reference
/// solution, as the self-trained-verification "informed" verifier sees it.
///
/// The few-shot exemplars are written for Stepwise (not taken from a benchmark), so they never
/// overlap a test problem.
enum DefaultPrompts {
    struct Entry {
        let name: String
        let text: String
    }

    /// The slots each prompt may use (what the loop fills for it).
    static let slots: [String: Set<String>] = [
        "generate-gsm8k": ["problem"],
        "generate-math": ["problem"],
        "generate-arith": ["problem"],
        "generate-sudoku4": ["problem"],
        "generate-chat": ["problem", "answer_format"],
        "verify-mc": ["problem", "steps"],
        "verify-mc-informed": ["problem", "steps", "reference"],
        "verify-cot-binary": ["problem", "steps"],
        "verify-cot-binary-informed": ["problem", "steps", "reference"],
        "verify-cot-score": ["problem", "steps"],
        "verify-cot-score-informed": ["problem", "steps", "reference"],
        "verify-critique": ["problem", "steps"],
        "verify-critique-informed": ["problem", "steps", "reference"],
        "verify-tournament": ["problem", "solution_a", "solution_b"],
        "verify-tournament-informed": ["problem", "solution_a", "solution_b", "reference"],
        "refine": ["problem", "generation", "critique", "answer_format"],
        "refine-chat": ["critique", "answer_format"],
    ]

    static let all: [Entry] = [
        Entry(name: "generate-gsm8k", text: """
        Solve each problem step by step, one step per line, and end with "The answer is N."

        Question: A baker fills 6 trays with 14 rolls each. She sells 50 rolls in the morning. How many rolls are left?
        Answer: The baker makes 6 * 14 = 84 rolls.
        After selling 50, she has 84 - 50 = 34 rolls left.
        The answer is 34.

        Question: Tom reads 12 pages on Monday and twice as many on Tuesday. His book has 60 pages. How many pages does he still have to read?
        Answer: On Tuesday Tom reads 2 * 12 = 24 pages.
        In two days he reads 12 + 24 = 36 pages.
        He still has 60 - 36 = 24 pages to read.
        The answer is 24.

        Question: A school orders 7 boxes of pencils with 25 pencils in each box and shares them equally among 5 classes. How many pencils does each class get?
        Answer: The school has 7 * 25 = 175 pencils.
        Each class gets 175 / 5 = 35 pencils.
        The answer is 35.

        Question: {problem}
        Answer:
        """),
        Entry(name: "generate-math", text: """
        Solve each problem step by step, one step per line, and put the final answer in \\boxed{{}}.

        Problem: What is the sum of the roots of $x^2 - 7x + 10 = 0$?
        Solution: The quadratic factors as $(x-2)(x-5) = 0$.
        So the roots are $2$ and $5$.
        Their sum is $2 + 5 = 7$, so the answer is $\\boxed{{7}}$.

        Problem: Simplify $\\frac{6}{8} + \\frac{1}{4}$.
        Solution: First, $\\frac{6}{8} = \\frac{3}{4}$.
        Then $\\frac{3}{4} + \\frac{1}{4} = \\frac{4}{4} = 1$.
        The answer is $\\boxed{{1}}$.

        Problem: {problem}
        Solution:
        """),
        Entry(name: "generate-arith", text: """
        {problem}
        Solution:
        """),
        Entry(name: "generate-sudoku4", text: "{problem}"),
        Entry(name: "generate-chat", text: """
        Solve the following problem step by step, one step per line. {answer_format}

        {problem}
        """),
        Entry(name: "verify-mc", text: """
        Problem: {problem}

        Proposed solution:
        {steps}

        Question: Is the proposed solution correct or incorrect?
        Answer:
        """),
        Entry(name: "verify-mc-informed", text: """
        Problem: {problem}

        Reference solution:
        {reference}

        Proposed solution:
        {steps}

        Question: Compared with the reference, is the proposed solution correct or incorrect?
        Answer:
        """),
        Entry(name: "verify-cot-binary", text: """
        Problem: {problem}

        Proposed solution:
        {steps}

        Check the proposed solution step by step. Then end with one line, either "Correctness: <correct>" or "Correctness: <incorrect>".
        Verification:
        """),
        Entry(name: "verify-cot-binary-informed", text: """
        Problem: {problem}

        Reference solution:
        {reference}

        Proposed solution:
        {steps}

        Check the proposed solution step by step against the reference. Then end with one line, either "Correctness: <correct>" or "Correctness: <incorrect>".
        Verification:
        """),
        Entry(name: "verify-cot-score", text: """
        Problem: {problem}

        Proposed solution:
        {steps}

        Check the proposed solution step by step. Then end with one line "Score: N", where N is from 1 (certainly wrong) to 10 (certainly right).
        Verification:
        """),
        Entry(name: "verify-cot-score-informed", text: """
        Problem: {problem}

        Reference solution:
        {reference}

        Proposed solution:
        {steps}

        Check the proposed solution step by step against the reference. Then end with one line "Score: N", where N is from 1 (certainly wrong) to 10 (certainly right).
        Verification:
        """),
        Entry(name: "verify-critique", text: """
        Problem: {problem}

        Proposed solution:
        {steps}

        Find the first wrong step of the proposed solution, if there is one. Answer in exactly this form:
        First wrong step: <the step's number, or none>
        Why: <one or two sentences>
        Critique:
        """),
        Entry(name: "verify-critique-informed", text: """
        Problem: {problem}

        Reference solution:
        {reference}

        Proposed solution:
        {steps}

        Using the reference, find the first wrong step of the proposed solution, if there is one. Answer in exactly this form:
        First wrong step: <the step's number, or none>
        Why: <one or two sentences>
        Critique:
        """),
        Entry(name: "verify-tournament", text: """
        Problem: {problem}

        Solution A:
        {solution_a}

        Solution B:
        {solution_b}

        Which solution is correct? Compare them step by step, then end with one line, either "Better: A" or "Better: B".
        Comparison:
        """),
        Entry(name: "verify-tournament-informed", text: """
        Problem: {problem}

        Reference solution:
        {reference}

        Solution A:
        {solution_a}

        Solution B:
        {solution_b}

        Using the reference, which solution is correct? Compare them step by step, then end with one line, either "Better: A" or "Better: B".
        Comparison:
        """),
        Entry(name: "refine", text: """
        Problem: {problem}

        Previous attempt:
        {generation}

        A reviewer's critique of the attempt:
        {critique}

        Write a corrected solution step by step, one step per line. {answer_format}
        Corrected solution:
        """),
        // Chat models: the follow-up turn after the model's own attempt (the conversation is
        // generate-chat as the user, the attempt as the assistant, then this as the user).
        Entry(name: "refine-chat", text: """
        A reviewer's critique of your solution:
        {critique}

        Write a corrected solution step by step, one step per line. {answer_format}
        """),
    ]
}
