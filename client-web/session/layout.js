// The call screen's layout: which video fills the screen, and the own picture-in-picture (movable by touch, mouse or
// keyboard). CSS (app.css) places the tiles from the classes set here: "focus" (the video that matters), "pip" (this
// page's own camera), "thumb" (everyone else). focusOf is pure (node tests in tests/layout.test.mjs).

/**
 * The participant whose video fills the screen: the one the person chose (a therapist taps a tile), else for a
 * patient or observer the one the therapist put in focus for the room (`roomFocus`, SetFocus: not this page's own,
 * which stays the picture-in-picture), else for a therapist the first patient, for everyone else the therapist; else
 * the first other participant; null when alone.
 * @param {{id: string, role: string}[]} participants in the room (this page's own included)
 */
export function focusOf(participants, { meId, role, chosen = null, roomFocus = null }) {
  const others = participants.filter((p) => p.id !== meId);
  if (chosen && others.some((p) => p.id === chosen)) return chosen;
  if (role !== 'therapist' && roomFocus && others.some((p) => p.id === roomFocus)) return roomFocus;
  const wanted = role === 'therapist' ? 'patient' : 'therapist';
  return (others.find((p) => p.role === wanted) ?? others[0])?.id ?? null;
}

export const CORNERS = ['end-bottom', 'start-bottom', 'start-top', 'end-top'];

/** The corner nearest to a point of the viewport (x from the left, y from the top), in the page's direction. */
export function nearestCorner(x, y, width, height, rtl = false) {
  const right = x > width / 2;
  const end = rtl ? !right : right;
  return `${end ? 'end' : 'start'}-${y > height / 2 ? 'bottom' : 'top'}`;
}

/** The corner an arrow key moves the picture to. */
export function cornerAfterKey(corner, key, rtl = false) {
  const [side, edge] = corner.split('-');
  const toEnd = rtl ? 'ArrowLeft' : 'ArrowRight';
  const toStart = rtl ? 'ArrowRight' : 'ArrowLeft';
  if (key === toEnd) return `end-${edge}`;
  if (key === toStart) return `start-${edge}`;
  if (key === 'ArrowUp') return `${side}-top`;
  if (key === 'ArrowDown') return `${side}-bottom`;
  return corner;
}

export class CallLayout {
  constructor(tiles) {
    this.tiles = tiles;
    this.role = null;
    this.chosen = null;
    this.roomFocus = null;
    this.corner = CORNERS[0];
  }

  setRole(role) {
    this.role = role;
  }

  /** A therapist puts someone in focus on its own screen. */
  choose(id) {
    this.chosen = id;
  }

  /** Whom the therapist put in focus for the room (FocusChanged), or null. */
  setRoomFocus(id) {
    this.roomFocus = id ?? null;
  }

  /** Classes for every tile: one focus, this page's own as the picture-in-picture, the rest as thumbnails. */
  apply(participants, meId) {
    const focus = focusOf(participants, { meId, role: this.role, chosen: this.chosen, roomFocus: this.roomFocus });
    this.focus = focus;
    this.tiles.dataset.count = String(this.tiles.children.length);
    for (const tile of this.tiles.children) {
      const id = tile.dataset.participant;
      const self = id === meId;
      tile.classList.toggle('focus', id === focus);
      tile.classList.toggle('pip', self && focus !== null);
      tile.classList.toggle('thumb', !self && id !== focus);
      if (self) this.makeMovable(tile);
    }
    this.tiles.classList.toggle('alone', focus === null);
  }

  makeMovable(tile) {
    tile.dataset.corner = this.corner;
    if (tile.dataset.movable) return;
    tile.dataset.movable = 'true';
    tile.tabIndex = 0;
    const rtl = () => document.documentElement.dir === 'rtl';
    const place = (corner) => { this.corner = corner; tile.dataset.corner = corner; tile.style.transform = ''; };
    tile.addEventListener('keydown', (event) => {
      if (!tile.classList.contains('pip')) return;
      const corner = cornerAfterKey(this.corner, event.key, rtl());
      if (corner === this.corner) return;
      event.preventDefault();
      place(corner);
    });
    let start = null;
    tile.addEventListener('pointerdown', (event) => {
      if (!tile.classList.contains('pip') || event.target.closest('button')) return;
      start = { x: event.clientX, y: event.clientY };
      tile.setPointerCapture(event.pointerId);
    });
    tile.addEventListener('pointermove', (event) => {
      if (!start) return;
      tile.style.transform = `translate(${event.clientX - start.x}px, ${event.clientY - start.y}px)`;
    });
    const drop = (event) => {
      if (!start) return;
      start = null;
      place(nearestCorner(event.clientX, event.clientY, window.innerWidth, window.innerHeight, rtl()));
    };
    tile.addEventListener('pointerup', drop);
    tile.addEventListener('pointercancel', drop);
  }
}
