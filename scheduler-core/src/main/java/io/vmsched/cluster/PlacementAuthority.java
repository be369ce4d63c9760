package io.vmsched.cluster;

import io.vmsched.placement.StatusReport;

import java.util.List;

/**
 * Where the services and rules of a cluster across machines live (its registry): a node's changes are
 * applied there, checked against the whole cluster, and every placement is checked there at its commit
 * point; the node keeps a copy (for its balancer, which then spares itself transfers the authority
 * would refuse) that {@link Cluster#adoptPlacement} brings up to date. Without one (the embedded cluster)
 * the placement journal in the data directory is the authority.
 * <p>
 * Threading: any thread; each call blocks until the authority answered.
 */
public interface PlacementAuthority
{
    /**
     * Apply statements ({@link io.vmsched.placement.Placement#submit}) as one change.
     *
     * @param statements the statements, in order.
     * @throws IllegalArgumentException naming the statement refused and why: nothing was applied.
     */
    void submit(List<String> statements);

    /** @return the authority's placement now ({@link io.vmsched.placement.Placement#statements()}). */
    List<String> statements();

    /**
     * @return every service's status across the cluster, and each rule with whether it holds, as the
     *         authority sees them now.
     */
    StatusReport status();
}
