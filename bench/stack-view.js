// What the scale bench reads of a running stack, in the shape it measures: state changes, spawns and
// exits as they happen, each service's status and last beat. Over the stack's bus and loop.
import { EventEmitter } from "node:events";

export function stackView(stack) {
  const events = new EventEmitter();
  events.setMaxListeners(0);
  const nameOf = (id) => id.slice(0, id.lastIndexOf("#"));
  stack.bus.subscribe((event) => {
    if (event.kind === "state") events.emit("change", event.instance, { state: event.fields.state, pid: event.fields.pid }, { state: event.fields.previous });
    else if (event.kind === "spawned") events.emit("spawned", event.instance, event.fields.pid);
  });
  // an exit is noticed when the process adapter reports it to the loop
  const post = stack.loop.post.bind(stack.loop);
  stack.loop.post = (input) => {
    if (input.type === "ChildExited") events.emit("exited", nameOf(input.id));
    post(input);
  };
  const instance = (name) => stack.loop.state.instances.get(`${name}#0`);
  return {
    on: (event, fn) => events.on(event, fn),
    off: (event, fn) => events.off(event, fn),
    runners: {
      get: (name) => {
        const i = instance(name);
        return i && { status: i.status };
      },
    },
    lastBeat: (name) => {
      const atMs = instance(name)?.heartbeat?.lastAtMs;
      return atMs === undefined || Number.isNaN(atMs) ? null : { atMs };
    },
    control: (cmd, names) => stack.command({ cmd, names }),
  };
}
