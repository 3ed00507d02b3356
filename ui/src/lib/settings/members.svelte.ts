// Project members: invite by email with a role, change a role, remove. Only
// owners manage members, and the last owner can be neither demoted nor removed.
import { formProblem, type FormProblem } from './problems';

export const ROLES = ['viewer', 'editor', 'admin', 'owner'] as const;
export type Role = (typeof ROLES)[number];

export interface Member {
  email: string;
  role: Role;
  created_at: string;
}

export interface MembersPort {
  list(): Promise<Member[]>;
  set(email: string, role: Role): Promise<Member>;
  remove(email: string): Promise<void>;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

export class MembersState {
  items = $state<Member[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  email = $state('');
  role = $state<Role>('editor');
  busy = $state(false);
  problem = $state<FormProblem | null>(null);
  /** A row's change that failed, shown beside it. */
  rowError = $state<{ email: string; message: string } | null>(null);
  removing = $state<{ member: Member; busy: boolean; error: string | null } | null>(null);

  constructor(private readonly port: MembersPort) {}

  get owners(): number {
    return this.items.filter((item) => item.role === 'owner').length;
  }

  /** Why this member's role cannot be changed or they cannot be removed, or null. */
  protectedReason(member: Member): string | null {
    return member.role === 'owner' && this.owners <= 1
      ? 'The last owner cannot be removed or demoted: make someone else owner first.'
      : null;
  }

  async load(): Promise<void> {
    this.loading = true;
    this.error = null;
    try {
      this.items = sortMembers(await this.port.list());
    } catch (failure) {
      this.error = formProblem(failure).message;
    } finally {
      this.loading = false;
    }
  }

  async invite(): Promise<boolean> {
    const email = this.email.trim().toLowerCase();
    if (!EMAIL.test(email)) {
      this.problem = { message: 'Enter the email address to invite.', fields: { email: 'Not an email address.' } };
      return false;
    }
    this.busy = true;
    this.problem = null;
    try {
      const member = await this.port.set(email, this.role);
      this.items = sortMembers([...this.items.filter((m) => m.email !== member.email), member]);
      this.email = '';
      return true;
    } catch (failure) {
      this.problem = formProblem(failure);
      return false;
    } finally {
      this.busy = false;
    }
  }

  async changeRole(member: Member, role: Role): Promise<boolean> {
    this.rowError = null;
    if (role === member.role) return true;
    const reason = this.protectedReason(member);
    if (reason) {
      this.rowError = { email: member.email, message: reason };
      return false;
    }
    try {
      const updated = await this.port.set(member.email, role);
      this.items = sortMembers(this.items.map((m) => (m.email === updated.email ? updated : m)));
      return true;
    } catch (failure) {
      this.rowError = { email: member.email, message: formProblem(failure).message };
      return false;
    }
  }

  askRemove(member: Member): void {
    this.removing = { member, busy: false, error: this.protectedReason(member) };
  }

  async confirmRemove(): Promise<boolean> {
    const target = this.removing;
    if (!target || this.protectedReason(target.member)) return false;
    target.busy = true;
    try {
      await this.port.remove(target.member.email);
      this.items = this.items.filter((m) => m.email !== target.member.email);
      this.removing = null;
      return true;
    } catch (failure) {
      target.busy = false;
      target.error = formProblem(failure).message;
      return false;
    }
  }
}

function sortMembers(members: Member[]): Member[] {
  return [...members].sort(
    (a, b) => ROLES.indexOf(b.role) - ROLES.indexOf(a.role) || a.email.localeCompare(b.email),
  );
}
