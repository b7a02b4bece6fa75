// zod for the browser test page: bundled by tests/browser/run.ts into
// dist/browser/zod.js, so the page defines an event with a real schema library.
export { z } from "zod";
