// The timeline's controls: mouse wheel zooms (shift or a horizontal wheel pans), dragging pans,
// hovering shows tooltips, the toolbar zooms, pans, fits or focuses, and a resize redraws.
import { panView, zoomView } from '../../timeline/aggregate.js';
import { hideTip, showTip } from './tip.js';
import type { TimelineView } from './view-api.js';

export function bindControls(v: TimelineView): void {
  bindWheel(v);
  bindPointer(v);
  bindToolbar(v);
  window.addEventListener('resize', () => v.schedule());
}

function bindWheel(v: TimelineView): void {
  const svg = v.svg;
  svg.addEventListener(
    'wheel',
    (e) => {
      e.preventDefault();
      const r = svg.getBoundingClientRect();
      let anchor = v.tAt(e.clientX - r.left);
      if (anchor < v.v0 || anchor > v.v1) anchor = (v.v0 + v.v1) / 2;
      const dy = e.deltaMode === 1 ? e.deltaY * 30 : e.deltaY;
      if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(dy)) {
        const dx = e.shiftKey ? dy : e.deltaX;
        v.set(panView(v.v0, v.v1, (dx / v.plotW) * (v.v1 - v.v0), v.lo, v.hi));
        return;
      }
      v.set(zoomView(v.v0, v.v1, Math.pow(1.0018, dy), anchor, v.lo, v.hi, 4));
    },
    { passive: false },
  );
}

/** Drag to pan (past 2 px; a tooltip hides meanwhile); hover for tooltips. */
function bindPointer(v: TimelineView): void {
  const svg = v.svg;
  let drag: { x: number; v0: number; v1: number; moved: boolean } | null = null;
  svg.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, v0: v.v0, v1: v.v1, moved: false };
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener('pointermove', (e) => {
    if (drag) {
      const dx = e.clientX - drag.x;
      if (Math.abs(dx) > 2) {
        drag.moved = true;
        svg.classList.add('dragging');
        hideTip();
      }
      if (drag.moved) v.set(panView(drag.v0, drag.v1, (-dx / v.plotW) * (drag.v1 - drag.v0), v.lo, v.hi));
      return;
    }
    const target = e.target as Element | null;
    const t = target?.closest ? target.closest('[data-tip]') : null;
    if (t && svg.contains(t)) showTip(v.tipContent(+t.getAttribute('data-tip')!), e.clientX, e.clientY);
    else hideTip();
  });
  svg.addEventListener('pointerup', () => {
    drag = null;
    svg.classList.remove('dragging');
  });
  svg.addEventListener('pointerleave', () => {
    if (!drag) hideTip();
  });
}

function bindToolbar(v: TimelineView): void {
  v.section.querySelector('.toolbar')!.addEventListener('click', (e) => {
    const b = (e.target as Element).closest('button[data-act]');
    if (!b) return;
    const span = v.v1 - v.v0;
    const mid = (v.v0 + v.v1) / 2;
    const act = b.getAttribute('data-act');
    if (act === 'in') v.set(zoomView(v.v0, v.v1, 0.5, mid, v.lo, v.hi, 4));
    else if (act === 'out') v.set(zoomView(v.v0, v.v1, 2, mid, v.lo, v.hi, 4));
    else if (act === 'left') v.set(panView(v.v0, v.v1, -span * 0.25, v.lo, v.hi));
    else if (act === 'right') v.set(panView(v.v0, v.v1, span * 0.25, v.lo, v.hi));
    else if (act === 'fit') v.set([v.lo, v.hi]);
    else if (act === 'focus') v.set(v.focus);
  });
}
