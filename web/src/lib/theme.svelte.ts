export type ThemeChoice = "system" | "light" | "dark";

const KEY = "pixhaven.theme";
const order: ThemeChoice[] = ["system", "light", "dark"];

function parse(value: string | null): ThemeChoice {
  return value === "light" || value === "dark" ? value : "system";
}

function stored(): ThemeChoice {
  try {
    return parse(localStorage.getItem(KEY));
  } catch {
    return "system";
  }
}

function apply(choice: ThemeChoice): void {
  if (choice === "system") document.documentElement.removeAttribute("data-theme");
  else document.documentElement.setAttribute("data-theme", choice);
}

let current = $state<ThemeChoice>(stored());

// Another tab changed the theme: follow it so both stay consistent.
window.addEventListener("storage", (e) => {
  if (e.key !== KEY) return;
  current = parse(e.newValue);
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
    try {
      if (current === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, current);
    } catch {
      // Not persisted, but the choice still applies for this page.
    }
  },
};
