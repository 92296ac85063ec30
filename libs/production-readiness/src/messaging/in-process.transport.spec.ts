import { describe, expect, it } from 'vitest';
import { lastValueFrom } from 'rxjs';
import {
  InProcessBus,
  InProcessClient,
  InProcessContext,
  InProcessRecord,
  InProcessServer,
} from './in-process.transport.js';

function handled(server: InProcessServer, pattern: string) {
  const received: { data: unknown; context: InProcessContext }[] = [];
  server.addHandler(
    pattern,
    (data: unknown, context: InProcessContext) => {
      received.push({ data, context });
      return Promise.resolve();
    },
    true,
  );
  return received;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('in-process transport', () => {
  it('delivers an emitted event to the handler of its pattern, as a copy, with its headers', async () => {
    const bus = new InProcessBus();
    const server = new InProcessServer(bus);
    const received = handled(server, 'essay.submitted');
    server.listen(() => undefined);
    const client = new InProcessClient({ bus });
    const payload = { essayId: 'e-1' };

    await lastValueFrom(
      client.emit('essay.submitted', new InProcessRecord(payload, { 'x-correlation-id': 'c-1' })),
      {
        defaultValue: undefined,
      },
    );
    await tick();
    await tick();

    expect(received).toHaveLength(1);
    expect(received[0].data).toEqual(payload);
    expect(received[0].data).not.toBe(payload);
    expect(received[0].context.getHeaders()).toEqual({ 'x-correlation-id': 'c-1' });
    expect(received[0].context.getPattern()).toBe('essay.submitted');
  });

  it('stops delivering once closed', async () => {
    const bus = new InProcessBus();
    const server = new InProcessServer(bus);
    const received = handled(server, 'x');
    server.listen(() => undefined);
    await server.close();
    bus.publish('x', 1);
    await tick();
    await tick();
    expect(received).toHaveLength(0);
  });

  it('refuses request-response, which it does not carry', async () => {
    const client = new InProcessClient({ bus: new InProcessBus() });
    await expect(lastValueFrom(client.send('x', 1))).rejects.toThrow(/events only/);
  });
});
