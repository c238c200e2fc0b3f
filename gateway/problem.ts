import type { Response } from 'express';
import type { Violation } from '../schemas/registry.ts';

/** Members of an RFC 9457 problem beside its title and status. */
export interface ProblemMembers {
  detail?: string;
  /** every violation found, so that the caller can fix them all at once */
  errors?: readonly Violation[];
  [member: string]: unknown;
}

/** The one way a route of the center's API or the dashboard answers with an error. */
export function problem(res: Response, status: number, title: string, members: ProblemMembers = {}): void {
  res.status(status).type('application/problem+json').json({ title, status, ...members });
}
