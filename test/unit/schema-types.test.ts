import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { GENERATED_TYPES_PATH, renderSchemaTypes } from '../../scripts/generate-schema-types.ts';

describe('schemas/types.generated.ts', () => {
  it('the generator writes to schemas/types.generated.ts', () => {
    expect(GENERATED_TYPES_PATH).to.equal(join(import.meta.dirname, '..', '..', 'schemas', 'types.generated.ts'));
  });

  it('when the types are generated from the JSON Schemas now, they equal the committed file (else run npm run schemas:types)', async function () {
    this.timeout(30_000);
    const committed = readFileSync(GENERATED_TYPES_PATH, 'utf8');
    const rendered = await renderSchemaTypes();
    expect(rendered.length).to.be.greaterThan(0);
    expect(rendered, 'schemas/types.generated.ts is stale: run `npm run schemas:types`').to.equal(committed);
  });

  it('the generated file declares the types the code imports from it', async function () {
    this.timeout(30_000);
    const rendered = await renderSchemaTypes();
    for (const name of ['GatewayConfig', 'BookingRequest', 'BookingDecision', 'ProvinceApply', 'ProvinceApplyData', 'ProvinceChange', 'ProvinceCancel', 'ProvinceQuery', 'ProvinceNotifyData']) {
      expect(rendered, name).to.match(new RegExp(`^export (interface|type) ${name}\\b`, 'm'));
    }
  });
});
