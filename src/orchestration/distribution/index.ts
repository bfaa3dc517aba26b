/**
 * @module The distribution engine's public entry points (issue 14 item 3, docs/orchestration.md "Distribution").
 * Other orchestration code (the brownfield import's step 5) calls these; the signatures are stable:
 *
 *   triggerDistribution(ctx: ServiceContext, deps: PendingDeps, input: TriggerInput): Promise<DistributionView>
 *     input = { siteId, vlanId (canonical VLAN row id), force?, confirmed?, placement? }; the actor is ctx.actor.
 *     With `force: true` the saga runs to its end before the promise settles (completed, or failed with its
 *     compensations run); without it the distribution is only planned (status `planned`, nothing written).
 *     409 ConflictError naming the running distribution while another one holds the site's lock.
 *   getDistribution(ctx: ServiceContext, id: string): Promise<DistributionView>
 */
export type { DistributionView, DistributionStepView, TriggerInput, Placement } from './model.ts';
export { getDistribution, listDistributions } from './store.ts';
export { triggerDistribution, retryDistribution, rollbackDistribution } from './saga.ts';
export { cleanupDistributionLocks } from './lock.ts';
