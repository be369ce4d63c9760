package io.vmsched.cluster;

import io.vmsched.handoff.HostMessages;

/**
 * The requests an embedding program makes of a {@link Cluster}, each carried to a host's agent as
 * one inbox message. A request whose call returned normally either takes effect or is reported to
 * {@link ClusterListener#onRequestFailed}: none is dropped.
 */
public enum Request
{
    /** {@link Cluster#admit}. */
    ADMIT(HostMessages.ADMIT),
    /** {@link Cluster#remove}. */
    REMOVE(HostMessages.REMOVE),
    /** {@link Cluster#programLoad} and {@link Cluster#clearProgrammedLoad}. */
    PROGRAM_LOAD(HostMessages.PROGRAM),
    /** {@link Cluster#migrate}. */
    MIGRATE(HostMessages.MIGRATE),
    /** {@link Cluster#reportUsage}. */
    REPORT_USAGE(HostMessages.USAGE),
    /** {@link Cluster#balloon}: its failures are told through its future and {@link ClusterListener#onBalloon} as well. */
    BALLOON(HostMessages.BALLOON);

    private static final Request[] BY_TYPE = new Request[HostMessages.BALLOON + 1];

    static
    {
        for (final Request request : values())
        {
            BY_TYPE[request.messageType] = request;
        }
    }

    final int messageType;

    Request(final int messageType)
    {
        this.messageType = messageType;
    }

    /**
     * @param messageType an inbox message type.
     * @return the request it carries, or null for a message between hosts.
     */
    static Request of(final int messageType)
    {
        return messageType > 0 && messageType < BY_TYPE.length ? BY_TYPE[messageType] : null;
    }
}
