// First: shared specs build zod schemas at import time, and zod must know it may not JIT.
import "./tools/zod-jitless.js";
import { mount } from "svelte";
import App from "./App.svelte";
import { registerServiceWorker } from "./lib/service-worker.js";
import "./app.css";

mount(App, { target: document.getElementById("app")! });
registerServiceWorker();
