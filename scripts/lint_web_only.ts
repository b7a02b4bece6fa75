// `deno lint` plugin: the library (the root *.ts entries and src/) is web
// platform only. It names no Deno, Bun, process, require or Buffer (not even
// as a property or a string) and imports only relative files, except that
// the files of src/context/ may import node:async_hooks.
const ROOT = new URL("..", import.meta.url).pathname;
const GLOBAL = "/^(Deno|Bun|process|require|Buffer)$/";

const plugin: Deno.lint.Plugin = {
  name: "web-only",
  rules: {
    "no-runtime-api": {
      create(context) {
        const path = context.filename.replace(ROOT, "");
        if (!/^(src\/.*|[^/]*)\.ts$/.test(path)) return {};
        const mayUseContext = /^src\/context\/[^/]*\.ts$/.test(path);
        return {
          [`Identifier[name=${GLOBAL}], Literal[value=${GLOBAL}]`](node) {
            const name = node.type === "Identifier" ? node.name : node.raw;
            context.report({ node, message: `${name} is not web platform` });
          },
          "*[source.value=/^[^.]/]"(node) {
            const { value } = node.source;
            if (mayUseContext && value === "node:async_hooks") return;
            const message = `import "${value}": only relative imports`;
            context.report({ node: node.source, message });
          },
        };
      },
    },
  },
};
export default plugin;
