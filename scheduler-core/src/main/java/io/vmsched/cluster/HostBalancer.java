package io.vmsched.cluster;

import io.vmsched.balance.BalanceConfig;
import io.vmsched.balance.BalanceDecision;
import io.vmsched.balance.Candidates;
import io.vmsched.balance.PeerSelector;
import io.vmsched.balance.Rejection;
import io.vmsched.balance.VmSelector;
import io.vmsched.journal.Journal;
import io.vmsched.journal.RecordType;
import io.vmsched.load.HostCapacity;
import io.vmsched.load.LoadModel;

import java.util.concurrent.atomic.AtomicLong;

/**
 * One host's balance exchange with a random peer (seed VM claims 1-8, 14-20, 23-31), through the
 * simulator's {@link PeerSelector} and {@link VmSelector}: compare loads, and if the difference is
 * worth it, hand the peer the VM whose load is nearest half the difference (its load on the peer
 * computed from its load factors and the peer's capacity). Allocation-free below the gate.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class HostBalancer
{
    private final int hostId;
    private final HostConfig config;
    private final ClusterView view;
    private final Journal journal;
    private final VmTable vms;
    private final HandoffSource source;
    private final LoadModel model;
    private final HostCapacity capacity;
    private final BalanceConfig balance;
    private final PeerSelector peers;
    private final double[] loadsScratch;
    private final Candidates candidates = new Candidates(); // one exchange's, reused

    final AtomicLong decisions = new AtomicLong();

    HostBalancer(final int hostId, final HostConfig config, final ClusterView view, final Journal journal,
        final VmTable vms, final HandoffSource source, final LoadModel model, final HostCapacity capacity)
    {
        this.hostId = hostId;
        this.config = config;
        this.view = view;
        this.journal = journal;
        this.vms = vms;
        this.source = source;
        this.model = model;
        this.capacity = capacity;
        this.balance = config.balance.forHosts(view.hosts); // the cluster's size is fixed at start
        this.peers = new PeerSelector(config.seed * 1_000_003L + hostId);
        this.loadsScratch = new double[view.hosts];
    }

    /**
     * Run one exchange.
     *
     * @param load this host's load, as last sampled.
     * @param now  the agent's clock.
     */
    void exchange(final double load, final long now)
    {
        final int hosts = view.hosts;
        if (hosts < 2)
        {
            return;
        }
        double sum = 0;
        int live = 0;
        for (int h = 0; h < hosts; h++)
        {
            final double l = view.load(h);
            loadsScratch[h] = Double.isNaN(l) ? Double.POSITIVE_INFINITY : l; // a host that is down is never chosen
            if (!Double.isNaN(l))
            {
                sum += l;
                live++;
            }
        }
        final int peer = balance.peerChoices > 1 ? peers.pickLeastLoaded(hostId, hosts, balance.peerChoices, loadsScratch) :
            peers.pick(hostId, hosts);
        if (loadsScratch[peer] == Double.POSITIVE_INFINITY)
        {
            return;
        }
        final double peerLoad = loadsScratch[peer];
        final double mean = Math.max(sum / Math.max(1, live), 1e-9);
        final int limit = balance.movesAllowed(source.size());
        if (!balance.dryRun && (limit < 0 || !VmSelector.worthExchanging(balance, load, peerLoad, mean)))
        {
            return; // nothing to decide: no record either, or an idle cluster would fill its journals
        }
        final int count = vms.size();
        final Candidates c = candidates.ensure(count);
        final long[] ids = c.ids;
        final double[] onSource = c.onSource;
        final double[] onPeer = c.onPeer;
        final Rejection[] blocked = c.blocked;
        final int[] chosen = c.chosen;
        final HostCapacity peerCapacity = view.capacities[peer];
        final long period = config.balancePeriodNs;
        for (int i = 0; i < count; i++)
        {
            final HostVm vm = vms.at(i);
            ids[i] = vm.vmId;
            onSource[i] = model.load(vm.load.factors(), capacity);
            onPeer[i] = model.load(vm.load.factors(), peerCapacity); // what the peer computes from the load factors
            if (vm.out != null)
            {
                blocked[i] = Rejection.MIGRATING;
            }
            else if (vm.external)
            {
                blocked[i] = Rejection.PINNED;
            }
            else if (now - vm.arrivedNs < balance.minResidency * period)
            {
                blocked[i] = Rejection.RESIDENCY;
            }
            else if (vm.cameFrom == peer && now - vm.arrivedNs < balance.pingPongGuard * period)
            {
                blocked[i] = Rejection.PING_PONG;
            }
            else
            {
                blocked[i] = Rejection.NONE;
            }
        }
        final BalanceDecision decision = new BalanceDecision(hostId, peer, load, peerLoad,
            balance.thresholdFraction * mean);
        final int moves = VmSelector.select(balance, load, peerLoad, mean, count, ids, onSource, onPeer, null, blocked,
            limit, chosen, decision);
        decisions.incrementAndGet();
        journal.appendText(RecordType.DECISION, 0, moves > 0 ? ids[chosen[0]] : -1, peer, moves, load, peerLoad,
            decision.decisionOutcome().code(), decision.toString());
        if (balance.dryRun)
        {
            return;
        }
        for (int i = 0; i < moves; i++)
        {
            source.start(vms.get(ids[chosen[i]]), peer, onSource[chosen[i]], onPeer[chosen[i]], now);
        }
    }
}
