// Shared output convention: every reporting command takes --json and then prints exactly one
// JSON object on stdout's last line (human-readable text goes to stderr in that mode).
export function printReport(json: boolean, report: object, human: () => string): void {
  if (json) {
    process.stdout.write(JSON.stringify(report) + '\n');
  } else {
    process.stdout.write(human() + '\n');
  }
}

/** Progress and chatter: stderr, so stdout stays machine-readable under --json. */
export function info(message: string): void {
  process.stderr.write(message + '\n');
}
