import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cornerAfterKey, focusOf, nearestCorner } from '../session/layout.js';

const room = [{ id: 't', role: 'therapist' }, { id: 'p1', role: 'patient' }, { id: 'p2', role: 'patient' }, { id: 'o', role: 'observer' }];

test('a patient sees the therapist; a therapist the first patient, or whom it chose', () => {
  assert.equal(focusOf(room, { meId: 'p2', role: 'patient' }), 't');
  assert.equal(focusOf(room, { meId: 'o', role: 'observer' }), 't');
  assert.equal(focusOf(room, { meId: 't', role: 'therapist' }), 'p1');
  assert.equal(focusOf(room, { meId: 't', role: 'therapist', chosen: 'p2' }), 'p2');
  assert.equal(focusOf(room, { meId: 't', role: 'therapist', chosen: 'gone' }), 'p1');
  assert.equal(focusOf([{ id: 'p1', role: 'patient' }, { id: 'o', role: 'observer' }], { meId: 'p1', role: 'patient' }), 'o');
  assert.equal(focusOf([{ id: 't', role: 'therapist' }], { meId: 't', role: 'therapist' }), null);
});

test('a patient sees whom the therapist put in focus, the therapist when nobody is, when it left, or when it is the patient itself', () => {
  assert.equal(focusOf(room, { meId: 'p1', role: 'patient', roomFocus: 'p2' }), 'p2');
  assert.equal(focusOf(room, { meId: 'o', role: 'observer', roomFocus: 'p2' }), 'p2');
  assert.equal(focusOf(room, { meId: 'p1', role: 'patient', roomFocus: null }), 't');
  assert.equal(focusOf(room, { meId: 'p1', role: 'patient', roomFocus: 'gone' }), 't');
  assert.equal(focusOf(room, { meId: 'p2', role: 'patient', roomFocus: 'p2' }), 't');
  // The therapist's own screen follows its own choice (a tap), not the room's focus.
  assert.equal(focusOf(room, { meId: 't', role: 'therapist', roomFocus: 'p2' }), 'p1');
  assert.equal(focusOf(room, { meId: 't', role: 'therapist', chosen: 'p1', roomFocus: 'p2' }), 'p1');
});

test('the own picture snaps to the nearest corner and moves with the arrow keys, mirrored right to left', () => {
  assert.equal(nearestCorner(300, 700, 360, 740), 'end-bottom');
  assert.equal(nearestCorner(10, 10, 360, 740), 'start-top');
  assert.equal(nearestCorner(300, 700, 360, 740, true), 'start-bottom');
  assert.equal(cornerAfterKey('end-bottom', 'ArrowUp'), 'end-top');
  assert.equal(cornerAfterKey('end-bottom', 'ArrowLeft'), 'start-bottom');
  assert.equal(cornerAfterKey('end-bottom', 'ArrowLeft', true), 'end-bottom');
  assert.equal(cornerAfterKey('start-top', 'ArrowLeft', true), 'end-top');
  assert.equal(cornerAfterKey('start-top', 'Enter'), 'start-top');
});
