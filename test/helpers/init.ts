import { initXxh64 } from '../../src/format';

beforeAll(async () => {
  await initXxh64();
});
