import { oneOf } from "./preferences.js";

export type ThemeChoice = "system" | "light" | "dark";

const order: ThemeChoice[] = ["system", "light", "dark"];

// Stored as the plain word under "pixhaven.theme": public/theme.js reads it before first paint.
const stored = oneOf<ThemeChoice>("theme", order, "system");

function apply(choice: ThemeChoice): void {
  if (choice === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", choice);
}

let current = $state<ThemeChoice>(stored.get());

// Another tab changed the theme: follow it so both stay consistent.
stored.onExternalChange((choice) => {
  current = choice;
  apply(current);
});

export const theme = {
  get choice(): ThemeChoice {
    return current;
  },
  get next(): ThemeChoice {
    return order[(order.indexOf(current) + 1) % order.length]!;
  },
  cycle(): void {
    current = this.next;
    apply(current);
    stored.set(current); // "system" removes the key
  },
};
