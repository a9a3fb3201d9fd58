// The API's answers, as much of them as the pages use (docs/openapi.json has the rest).
import type { Frame, Series } from './format.js';

export interface Config {
  /** The API's base URL or path (`/_aws/execute-api/abc` locally, `https://errata.example.com`). */
  api: string;
  /** The organization and project to open first. */
  org?: string;
  project?: string;
}

export interface OrgRef {
  slug: string;
  name: string;
  role: string;
}

export interface Me {
  email: string;
  name: string;
  organizations: OrgRef[];
}

export interface Project {
  id: string;
  slug: string;
  name: string;
  platform: string | null;
}

export interface ProjectDetail extends Project {
  dataScrubber: boolean;
  scrubIPAddresses: boolean;
  sensitiveFields: string[];
  safeFields: string[];
  fingerprintingRules: string;
  settings: { retention_days: number | null };
}

export interface Issue {
  id: string;
  shortId: string;
  title: string;
  culprit: string;
  level: string;
  status: string;
  substatus?: string;
  statusDetails: Record<string, unknown>;
  platform: string | null;
  count: string;
  userCount: number;
  firstSeen: string;
  lastSeen: string;
  firstRelease: { version: string } | null;
  lastRelease: { version: string } | null;
  assignedTo: { id: string; name: string; email: string } | null;
  project: { id: string; slug: string; name: string };
  metadata: Record<string, unknown>;
  stats?: Record<string, Series>;
}

export interface ExceptionValue {
  type: string | null;
  value: string | null;
  module: string | null;
  mechanism: { type?: string; handled?: boolean } | null;
  stacktrace: { frames: Frame[] } | null;
  rawStacktrace: { frames: Frame[] } | null;
}

export interface Breadcrumb {
  timestamp?: string | number;
  type?: string;
  category?: string;
  level?: string;
  message?: string;
  data?: Record<string, unknown>;
}

export type Entry =
  | { type: 'exception'; data: { values: ExceptionValue[]; hasSystemFrames: boolean } }
  | { type: 'message'; data: { formatted: string } }
  | { type: 'breadcrumbs'; data: { values: Breadcrumb[] } }
  | { type: 'request'; data: Record<string, unknown> };

export interface Event {
  id: string;
  eventID: string;
  title: string;
  message: string;
  platform: string | null;
  dateCreated: string | null;
  dateReceived: string | null;
  entries: Entry[];
  tags: { key: string; value: string }[];
  user: Record<string, unknown> | null;
  contexts: Record<string, Record<string, unknown>>;
  context: Record<string, unknown>;
  sdk: { name?: string; version?: string; packages?: { name: string; version: string }[] } | null;
  release: string | null;
  environment: string | null;
  previousEventID: string | null;
  nextEventID: string | null;
  /** What processing could not do (invalid values dropped, symbolication given up), and why. */
  errors?: { type: string; message: string; data: Record<string, unknown> }[];
}

export interface TagKey {
  key: string;
  totalValues: number;
  uniqueValues: number;
  topValues: { value: string; count: number; lastSeen: string | null }[];
}

export interface Member {
  id: string;
  email: string;
  name: string;
  role: string;
  pending: boolean;
  expired: boolean;
}

/** What an invitation is for (`POST accept-invite/details/` with its token). */
export interface InviteDetails {
  organization: { slug: string; name: string } | string;
  email: string;
  role: string;
  invitedBy: string;
  hasAccount: boolean;
  expires: string | null;
}

/** One of the signed-in user's sign-ins (`GET users/me/sessions/`). */
export interface Session {
  id: string;
  /** The sign-in of the browser that asks. */
  current: boolean;
  dateCreated: string | null;
  expires: string;
  ipAddress: string | null;
  userAgent: string | null;
}

export interface AuditUser {
  id?: string;
  email: string;
  name?: string;
  username?: string;
}

/** One entry of an organization's audit log; `actor` null: Errata itself. */
export interface AuditEntry {
  id: string;
  actor: AuditUser | null;
  event: string;
  ipAddress: string | null;
  /** A sentence saying what happened. */
  note: string;
  targetObject: string | null;
  targetUser: AuditUser | null;
  data: Record<string, unknown>;
  dateCreated: string | null;
}

/** `GET organizations/{org}/audit-logs/`: a page of entries and every event name it records. */
export interface AuditLog {
  rows: AuditEntry[];
  options: string[];
}

export interface Key {
  id: string;
  name: string;
  isActive: boolean;
  public: string;
  rateLimit: { count: number; window: number } | null;
  dsn: { public: string };
  dateCreated: string | null;
}

export interface Filter {
  id: string;
  name: string;
  active: boolean;
  patterns?: string[];
}

export type Condition =
  | { id: 'first_seen' }
  | { id: 'regression' }
  | { id: 'escalation' }
  | { id: 'event_frequency'; value: number; interval_minutes: number }
  | { id: 'unique_users'; value: number; interval_minutes: number };

export type RuleFilter =
  | { id: 'level'; at_least: string }
  | { id: 'environment'; value: string }
  | { id: 'release'; value: string }
  | { id: 'tag'; key: string; value: string; contains?: boolean }
  | { id: 'issue_age'; older: boolean; minutes: number };

/** A webhook's signing secret, and a Slack webhook's URL (itself a credential), are write-only:
 * answers say that one is set (`secretSet`, `urlSet` and the URL's `host`), never what it is.
 * An update that leaves `url` or `secret` out keeps the stored one; `"secret": ""` removes it. */
export type Action =
  | { id: 'email'; addresses: string[] }
  | {
      id: 'webhook';
      format: 'slack' | 'generic';
      url?: string;
      secret?: string;
      secretSet?: boolean;
      urlSet?: boolean;
      host?: string | null;
    };

export interface Rule {
  id: string;
  name: string;
  action_match: 'any' | 'all';
  conditions: Condition[];
  filters: RuleFilter[];
  actions: Action[];
  frequency: number;
  muted: boolean;
}

export interface Release {
  version: string;
  dateCreated: string | null;
  firstEvent: string | null;
  lastEvent: string | null;
  eventCount: number;
}

export interface GroupingInfo {
  hash: string;
  variant: string;
  components: string[];
  config: { id: string };
}
