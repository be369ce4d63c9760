package io.vmsched.journal;

/**
 * The kinds of journal record, with the code stored in a record's type byte. Codes are part of the
 * on-disk schema: never renumber one, only add.
 */
public enum RecordType
{
    /** The host started (or restarted) and recovered its journal; {@code aux} = VMs it owns. */
    HOST_STARTED(1),
    /** A VM was admitted to this host; payload = guest kind then its initial state. */
    ADMITTED(2),
    /** A VM was removed from the cluster at this host. */
    REMOVED(3),
    /** Source: a migration of the VM to {@code peer} begins. */
    MIGRATION_INTENT(4),
    /** Source: the VM is stopped and its state snapshot taken; payload = guest kind then state. */
    SUSPENDED(5),
    /** Target: the VM's state arrived from {@code peer}; payload = guest kind then state. */
    RECEIVED(6),
    /** Target: the VM is inserted and restored here, and is made runnable right after: <b>the commit point</b>. */
    ACTIVATED(7),
    /** Source: the target activated the VM; the source's copy is deleted. */
    COMMITTED(8),
    /** Either side: the migration ended without moving the VM; payload = the reason (UTF-8). */
    ABORTED(9),
    /** A balance exchange; {@code a}/{@code b} = own and peer load, payload = the decision in words. */
    DECISION(10),
    /** Periodic: this host's load in {@code a}, its VM count in {@code aux}. */
    LOAD_SNAPSHOT(11),
    /** A migration left in doubt by a crash was resolved by recovery; {@code aux} = 1 committed, 0 aborted. */
    RESOLVED(12),
    /**
     * Target: the source {@code peer}'s refusal watermark advanced to {@code migrationId} (that source
     * settled every migration below it and will not ask about them again). Recovery restores it, and
     * with it only the outcomes at or above it, so a stale transfer below it is still refused.
     */
    WATERMARK(13),
    /**
     * The cluster's placement journal: a change of services or rules; payload = the statement
     * ({@link io.vmsched.placement.Placement}'s text form). Recovery applies them again, in order.
     */
    PLACEMENT(14),
    /**
     * The cluster's placement journal: a service's status changed; {@code code} = the status
     * ({@link io.vmsched.placement.ServiceHealth} ordinal), payload = the service's name, a space, the cause.
     */
    SERVICE_STATUS(15),
    /**
     * The host asked a VM's balloon for memory or processors; payload = {@link BalloonRecord} (the request's id
     * and targets, -1 for a target left unchanged). Journaled also for a request refused at once (a bad target).
     */
    BALLOON_REQUESTED(16),
    /**
     * How a balloon request ended; payload = {@link BalloonRecord} (the request's id, the outcome, what the guest
     * holds now, -1 if unknown, and the reason). Recovery applies the last one that moved the guest again.
     */
    BALLOON_RESULT(17);

    private static final RecordType[] BY_CODE;

    static
    {
        int max = 0;
        for (final RecordType type : values())
        {
            max = Math.max(max, type.code);
        }
        BY_CODE = new RecordType[max + 1];
        for (final RecordType type : values())
        {
            BY_CODE[type.code] = type;
        }
    }

    private final int code;

    RecordType(final int code)
    {
        this.code = code;
    }

    /** @return the code stored on disk. */
    public int code()
    {
        return code;
    }

    /**
     * @param code a stored type code.
     * @return its type, or null if the code is unknown (a newer schema, or corruption).
     */
    public static RecordType of(final int code)
    {
        return code > 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
