// The HTML report's page script (bundled into one inline script by scripts/build-html-client.mjs):
// a timeline per run, built when its section is first opened, and the findings' location links,
// which open the run and zoom to the event. window.migtraceViews exposes the views (for tests).
import { View } from './view.js';

const views: View[] = [];

function init(section: HTMLDetailsElement, idx: number): View {
  if (views[idx]) return views[idx];
  views[idx] = new View(section, idx);
  return views[idx];
}

document.querySelectorAll<HTMLDetailsElement>('details.run').forEach((sec) => {
  const idx = +sec.getAttribute('data-run')!;
  if (sec.open) init(sec, idx);
  sec.addEventListener('toggle', () => {
    if (sec.open) init(sec, idx).schedule();
  });
});

document.addEventListener('click', (e) => {
  const target = e.target as Element | null;
  const b = target?.closest && target.closest('button.loc');
  if (!b) return;
  const idx = +b.getAttribute('data-run')!;
  const sec = document.querySelector<HTMLDetailsElement>('details.run[data-run="' + idx + '"]')!;
  sec.open = true;
  init(sec, idx).reveal(+b.getAttribute('data-f')!, +b.getAttribute('data-l')!);
});

(window as unknown as { migtraceViews: View[] }).migtraceViews = views;
