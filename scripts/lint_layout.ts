// `deno lint` plugin: the folder layout of src/ (CONTRIBUTING.md, "Layout").
// Every file of src/ sits in a feature folder; a `_` file is imported only
// from its own folder, or from anywhere in src/ when it lives in src/_shared/;
// nothing in src/ imports a root entry or anything else outside src/.
const ROOT = new URL("..", import.meta.url).pathname;
const SHARED = "src/_shared";

function resolve(from: string, specifier: string): string {
  const parts = from.split("/").slice(0, -1);
  for (const part of specifier.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== ".") parts.push(part);
  }
  return parts.join("/");
}

function folderOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

const plugin: Deno.lint.Plugin = {
  name: "layout",
  rules: {
    "feature-folders": {
      create(context) {
        const path = context.filename.replace(ROOT, "");
        if (!path.startsWith("src/")) return {};
        return {
          Program(node) {
            if (folderOf(path) === "src") {
              const message =
                `${path} is flat in src/: move it into a feature folder`;
              context.report({ node, message });
            }
          },
          "*[source.value=/^\\./]"(node) {
            const target = resolve(path, node.source.value);
            const name = target.slice(target.lastIndexOf("/") + 1);
            let message: string | undefined;
            if (!target.startsWith("src/")) {
              message =
                `import "${node.source.value}": src/ imports nothing outside src/ (no root entry)`;
            } else if (
              name.startsWith("_") && folderOf(target) !== folderOf(path) &&
              folderOf(target) !== SHARED
            ) {
              message =
                `import "${node.source.value}": a _ file is private to ${
                  folderOf(target)
                }/ (move what others need to ${SHARED}/)`;
            }
            if (message) context.report({ node: node.source, message });
          },
        };
      },
    },
  },
};
export default plugin;
