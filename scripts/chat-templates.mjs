// Renders every chat template in corral-llamacpp/src/test/resources/chat-templates/templates with every case in
// cases/, using Hugging Face's JavaScript renderer (@huggingface/jinja), into expected/ (see NOTICE.md there).
import { Template } from "@huggingface/jinja";
import fs from "node:fs";
import path from "node:path";

const root = process.argv[2];
const templates = fs.readdirSync(path.join(root, "templates")).filter(f => f.endsWith(".jinja")).sort();
const cases = fs.readdirSync(path.join(root, "cases")).filter(f => f.endsWith(".json")).sort();
fs.rmSync(path.join(root, "expected"), { recursive: true, force: true });
fs.mkdirSync(path.join(root, "expected"));
for (const t of templates) {
  const source = fs.readFileSync(path.join(root, "templates", t), "utf8");
  const name = t.replace(/\.jinja$/, "");
  for (const c of cases) {
    const input = JSON.parse(fs.readFileSync(path.join(root, "cases", c), "utf8"));
    const vars = { bos_token: "<BOS>", eos_token: "<EOS>", date_string: "26 Jul 2024", ...input };
    const out = path.join(root, "expected", `${name}--${c.replace(/\.json$/, "")}`);
    try {
      fs.writeFileSync(out + ".txt", new Template(source).render(vars));
    } catch (e) {
      fs.writeFileSync(out + ".error", String(e.message ?? e) + "\n");
    }
  }
}
console.log(`${templates.length} templates x ${cases.length} cases`);
