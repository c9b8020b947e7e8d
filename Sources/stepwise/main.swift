import Foundation
import StepwiseCLI

exit(CLI.run(Array(CommandLine.arguments.dropFirst())))
