/**
 * @module The distribution engine's vocabulary (docs/orchestration.md "Distribution"): statuses of a distribution
 * and of its steps, the placement that says where a canonical VLAN goes on each device, and the views the API,
 * CLI and console show.
 */

export const DISTRIBUTION_STATUSES = [
  'planned',
  'running',
  'completed',
  'failed',
  'rolling_back',
  'rolled_back',
  'rollback_failed',
] as const;
export type DistributionStatus = (typeof DISTRIBUTION_STATUSES)[number];

export const STEP_STATUSES = [
  'pending',
  'running',
  'done',
  'failed',
  'skipped',
  'compensating',
  'compensated',
  'compensation_failed',
] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export type StepAction = 'check' | 'create' | 'update' | 'noop';

/** The device kinds a distribution writes, in the order a brain tier runs them. */
export type DistributedKind = 'vlan_interface' | 'dhcp_scope' | 'dhcp_static_mapping' | 'dns_override' | 'bridge_vlan';
export type StepKind = 'reachability' | DistributedKind;

/** Where the VLAN goes on one limb: its bridge, the trunk ports that carry it tagged, access ports untagged. */
export interface LimbPlacement {
  bridge: string;
  tagged: string[];
  untagged: string[];
}

/**
 * Where the VLAN goes on each device. Given in the trigger or worked out from the devices (ADR 0266): the brain's
 * parent port is the one its VLAN interfaces already share (else its `lan` interface's port); a limb's bridge and
 * trunk ports are those every VLAN on its bridge is already tagged on.
 */
export interface Placement {
  brain_parent: string;
  limbs: Record<string, LimbPlacement>;
}

export interface TriggerInput {
  siteId: string;
  /** The canonical VLAN's row id (`/api/v1/firewall/vlans/{id}`), not its 802.1Q tag. */
  vlanId: string;
  /** Gate 2: run the saga now. Without it the distribution is only planned (nothing is written). */
  force?: boolean;
  /** Accepted for symmetry with other writes; compensations (deletes) are the saga's own and need no confirmation. */
  confirmed?: boolean;
  /** Overrides what would be worked out from the devices (any part of it). */
  placement?: { brain_parent?: string; limbs?: Record<string, Partial<LimbPlacement>> };
}

export interface DistributionStepView {
  id: string;
  attempt: number;
  seq: number;
  tier: number;
  deviceId: string;
  deviceName: string;
  kind: StepKind;
  resourceKey: string;
  action: StepAction;
  status: StepStatus;
  desired: unknown;
  before: unknown;
  target: string | null;
  compensation: unknown;
  pendingChangeId: string | null;
  compensationChangeId: string | null;
  verification: unknown;
  error: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface DistributionView {
  id: string;
  siteId: string;
  canonicalVlanId: string | null;
  vlanTag: number;
  vlanName: string;
  status: DistributionStatus;
  placement: Placement;
  attempt: number;
  error: { code: string; message: string; step_id?: string | null; field?: string } | null;
  triggeredBy: string | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  /** The current attempt's plan and results, in order (earlier attempts are in `history`). */
  steps: DistributionStepView[];
  /** Steps of earlier attempts, newest attempt first. */
  history: DistributionStepView[];
}
