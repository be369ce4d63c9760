package io.vmsched.cluster;

import io.vmsched.handoff.HostMessages;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.MessageHandler;

/**
 * Decodes a host's inbox: requests from the embedding API go to {@link Requests}, the handoff's
 * messages to the source or target side, peers' shares of the mean estimate to the {@link HostBalancer}. A message of an unknown type is reported, never fatal.
 * <p>
 * <b>Note:</b> Not threadsafe: the host's agent only.
 */
final class InboxAdapter implements MessageHandler
{
    private final int hostId;
    private final ClusterView view;
    private final Requests requests;
    private final HandoffSource source;
    private final HandoffTarget target;
    private final HostBalancer balancer;
    private final HostMessages.Answer answer = new HostMessages.Answer();
    private final HostMessages.MeanShare share = new HostMessages.MeanShare();
    private final HostMessages.Pull pull = new HostMessages.Pull();
    private final HostMessages.LoadFigures figures = new HostMessages.LoadFigures();
    private final HostMessages.OwnerAnswer ownerAnswer = new HostMessages.OwnerAnswer();
    private final HostMessages.Prepared prepared = new HostMessages.Prepared();
    private final java.util.function.BooleanSupplier balancing;

    InboxAdapter(final int hostId, final ClusterView view, final Requests requests, final HandoffSource source,
        final HandoffTarget target, final HostBalancer balancer, final java.util.function.BooleanSupplier balancing)
    {
        this.balancer = balancer;
        this.balancing = balancing;
        this.hostId = hostId;
        this.view = view;
        this.requests = requests;
        this.source = source;
        this.target = target;
    }

    @Override
    public void onMessage(final int type, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final Request request = Request.of(type);
        if (request != null)
        {
            requests.onRequest(request, type, buffer, offset, length);
            return;
        }
        try
        {
            switch (type)
            {
                case HostMessages.TRANSFER: target.onTransfer(buffer, offset, length); break;
                case HostMessages.ACK: onAnswer(answer.wrapRead(buffer, offset), true); break;
                case HostMessages.NACK: onAnswer(answer.wrapRead(buffer, offset), false); break;
                case HostMessages.RESOLVE: target.onResolve(buffer, offset); break;
                case HostMessages.PREPARED: onPrepared(prepared.wrapRead(buffer, offset), length); break;
                case HostMessages.MEAN_SHARE: balancer.onMeanShare(share.wrapRead(buffer, offset)); break;
                case HostMessages.MEAN_REPLY: balancer.onMeanReply(share.wrapRead(buffer, offset)); break;
                case HostMessages.GOSSIP: balancer.onGossip(figures.wrapRead(buffer, offset), length, true); break;
                case HostMessages.GOSSIP_REPLY: balancer.onGossip(figures.wrapRead(buffer, offset), length, false); break;
                case HostMessages.PULL: balancer.onPull(pull.wrapRead(buffer, offset), balancing.getAsBoolean()); break;
                case HostMessages.OWNER_ANSWER: onOwnerAnswer(ownerAnswer.wrapRead(buffer, offset)); break;
                default: view.listener.onError(hostId, new IllegalStateException("unknown message type " + type));
            }
        }
        catch (final RuntimeException ex)
        {
            view.listener.onError(hostId, ex);
        }
    }

    private void onPrepared(final HostMessages.Prepared prepared, final int length)
    {
        source.onPrepared(prepared.migrationId(), prepared.host(), prepared.uri(length));
    }

    private void onAnswer(final HostMessages.Answer answer, final boolean activated)
    {
        source.onAnswer(answer.migrationId(), answer.host(), activated);
    }

    private void onOwnerAnswer(final HostMessages.OwnerAnswer answer)
    {
        switch (answer.request())
        {
            case OwnerRegistry.ADMIT: requests.onAdmitAnswer(answer.vmId(), answer.applied(), answer.owner()); break;
            case OwnerRegistry.MOVE: target.onMoveAnswer(answer.migrationId(), answer.applied(), answer.owner()); break;
            case OwnerRegistry.RECLAIM:
                source.onReclaimAnswer(answer.migrationId(), answer.applied(), answer.owner(), answer.ownerMigrationId());
                break;
            default: view.listener.onError(hostId, new IllegalStateException("owner answer to unknown request " +
                answer.request()));
        }
    }

    /** At close: every request still in the inbox is reported failed (the rest is the handoff's to settle). */
    void failRequest(final int type, final MutableDirectBuffer buffer, final int offset, final int length)
    {
        final Request request = Request.of(type);
        if (request == null)
        {
            return;
        }
        if (request == Request.ADMIT)
        {
            view.admitsQueued.decrementAndGet(hostId); // it never reached its admission
        }
        requests.failed(request, buffer, offset, "host " + hostId + " closed before it took effect");
    }
}
