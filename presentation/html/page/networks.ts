/**
 * The network tabs of "Inside the networks" (WAI-ARIA tabs: arrow keys, Home and End move between
 * them; the panel of the selected one is shown, the others hidden).
 */
export function setUpNetworkTabs(): void {
  const tabs = [...document.querySelectorAll<HTMLButtonElement>('.network-tabs [role="tab"]')];
  if (tabs.length === 0) return;
  const select = (chosen: HTMLButtonElement): void => {
    for (const tab of tabs) {
      const on = tab === chosen;
      tab.setAttribute("aria-selected", String(on));
      tab.tabIndex = on ? 0 : -1;
      const panel = document.getElementById(tab.getAttribute("aria-controls") ?? "");
      if (panel) panel.hidden = !on;
    }
  };
  tabs.forEach((tab, index) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (event) => {
      const next = { ArrowRight: index + 1, ArrowLeft: index - 1, Home: 0, End: tabs.length - 1 }[event.key];
      if (next === undefined) return;
      event.preventDefault();
      const target = tabs[(next + tabs.length) % tabs.length]!;
      target.focus();
      select(target);
    });
  });
  select(tabs.find((tab) => tab.getAttribute("aria-selected") === "true") ?? tabs[0]!);
}
