import { expect } from 'chai';
import { rolesFromArgv } from '../../config/index.ts';

describe('roles from the command line', () => {
  it('when --role names one role, only that role is overridden', () => {
    expect(rolesFromArgv(['--role', 'worker'])).to.deep.equal({ overrides: { role: ['worker'] } });
  });

  it('when --role=api,scheduler is given, both roles are taken', () => {
    expect(rolesFromArgv(['--role=api,scheduler'])).to.deep.equal({ overrides: { role: ['api', 'scheduler'] } });
  });

  it('when --role is repeated, the roles add up', () => {
    expect(rolesFromArgv(['--role', 'api', '--role', 'worker'])).to.deep.equal({ overrides: { role: ['api', 'worker'] } });
  });

  it('when no --role is given, nothing is overridden (all three roles by default)', () => {
    expect(rolesFromArgv(['--inspect'])).to.deep.equal({});
  });
});
