// The one tooltip of the page (#tip), placed beside the pointer and kept on screen.

const tip = document.getElementById('tip') as HTMLElement;

export function showTip(content: Node, cx: number, cy: number): void {
  tip.textContent = '';
  tip.appendChild(content);
  tip.hidden = false;
  const w = tip.offsetWidth;
  const h = tip.offsetHeight;
  let x = cx + 14;
  let y = cy + 14;
  if (x + w > innerWidth - 4) x = Math.max(4, cx - w - 14);
  if (y + h > innerHeight - 4) y = Math.max(4, cy - h - 14);
  tip.style.left = x + 'px';
  tip.style.top = y + 'px';
}

export function hideTip(): void {
  tip.hidden = true;
}
