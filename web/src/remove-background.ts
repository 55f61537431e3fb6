// Entry of the one page that runs under the relaxed script policy (src/http/web.ts): a page of
// its own, so that the rest of the app keeps the strict one.
import { mount } from "svelte";
import RemoveBackgroundApp from "./RemoveBackgroundApp.svelte";
import { registerServiceWorker } from "./lib/service-worker.js";
import "./app.css";

mount(RemoveBackgroundApp, { target: document.getElementById("app")! });
registerServiceWorker();
