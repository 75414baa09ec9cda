// Any path the app does not know.
import { h, empty } from "../dom.js";
import { setCrumbs } from "../main.js";

export async function render(root, ctx) {
  setCrumbs(h("h1", null, "Not found"));
  root.append(empty("There is no page here", h("div", null, "Go to the ", ctx.link("/", "overview"), ".")));
}
