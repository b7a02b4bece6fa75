/**
 * @nestjs/cqrs's EventBus without a Nest application, when its packages
 * are in deno.json's imports (`@nestjs/cqrs`, `@nestjs/common`,
 * `@nestjs/core`, `rxjs`, `reflect-metadata`); otherwise
 * {@linkcode loadNestEventBus} resolves to `undefined` and the benches
 * leave NestJS out.
 *
 * The bus is built by hand: `new EventBus(commandBus, moduleRef,
 * unhandledExceptionBus)` with stubs for the three (only sagas, request
 * scoped handlers and failures would use them), and each handler is
 * registered the way Nest's explorer does, as a static instance wrapper of a
 * class decorated with `@EventsHandler(MessageClass)`. Nest routes an event
 * by its class, so each event type is a class.
 *
 * @module
 */

/** A Nest event class: it carries our event (or the naive one). */
export type NestMessageClass = new (
  event: unknown,
) => { readonly event: unknown };

/** A Nest EventBus, as far as the benches use it. */
export interface NestBus {
  /** `EventBus#publish`: synchronous, fire-and-forget. */
  publish(message: object): void;
}

/** What the benches need from @nestjs/cqrs. */
export interface NestHarness {
  /** A new EventBus, its collaborators stubbed. */
  create(): NestBus;
  /** A new event class, so that Nest can route by it. */
  messageClass(): NestMessageClass;
  /** Registers `handler` for the events of `Message` on `bus`. */
  on(
    bus: NestBus,
    Message: NestMessageClass,
    handler: (message: { readonly event: unknown }) => void,
  ): void;
}

/** The harness, or `undefined` when the Nest packages are not importable. */
export async function loadNestEventBus(): Promise<NestHarness | undefined> {
  // Held in variables so that the type checker does not resolve them.
  const packages = ["reflect-metadata", "@nestjs/cqrs"];
  let cqrs;
  try {
    await import(packages[0] as string);
    cqrs = await import(packages[1] as string);
  } catch {
    console.error(
      "@nestjs/cqrs is not in deno.json's imports: NestJS left out",
    );
    return undefined;
  }
  const { EventBus, EventsHandler } = cqrs;
  const unhandled = { publish() {} };
  return {
    create: () => new EventBus({}, {}, unhandled),
    messageClass: () =>
      class Message {
        readonly event: unknown;
        constructor(event: unknown) {
          this.event = event;
        }
      },
    on(bus, Message, handler) {
      const Handler = class {
        handle(message: { readonly event: unknown }): void {
          handler(message);
        }
      };
      EventsHandler(Message)(Handler);
      (bus as unknown as { register(wrappers: object[]): void }).register([{
        metatype: Handler,
        instance: new Handler(),
        isDependencyTreeStatic: () => true,
      }]);
    },
  };
}
