package io.vmsched.journal;

/**
 * Why a migration ended without moving its VM, as an {@code ABORTED} record stores it in its header's
 * {@code code} field ({@link JournalRecord#abortReason()}); the record's text keeps the detail (an
 * exception's message, a size). One constant per place the runtime journals an abort.
 * <p>
 * Codes are part of the on-disk schema, like {@link RecordType}'s: never renumber one, only add. A
 * code this reader does not know (a newer writer's) reads as {@link #UNKNOWN}, so old tools still
 * count such aborts, if not by their reason.
 * <p>
 * Threading: immutable.
 */
public enum AbortReason
{
    /** Written before reasons were coded (code 0), or a reason newer than this reader. */
    UNKNOWN(0),
    /** Source: stopping the VM for the migration failed. */
    SOURCE_FAILED_TO_STOP(1),
    /** Source: snapshotting or journaling the VM's state failed, before anything was sent. */
    SOURCE_FAILED_BEFORE_TRANSFER(2),
    /** Source: the target's inbox would not take the transfer (full, down, or too small for it). */
    TRANSFER_NOT_QUEUED(3),
    /** Source: sending the transfer failed; it never left. */
    TRANSFER_NOT_SENT(4),
    /** Source: the target answered that it did not activate the VM. */
    TARGET_DID_NOT_ACTIVATE(5),
    /** Target: receiving, re-creating or inserting the VM failed before its commit point. */
    TARGET_FAILED_BEFORE_ACTIVATING(6),
    /** Target: the source asked to resolve a migration whose transfer had not arrived; refused for good. */
    RESOLVED_BEFORE_TRANSFER(7),
    /** Source, by recovery: the migration was in doubt at a crash and the target never activated it. */
    RECOVERY_TARGET_NEVER_ACTIVATED(8),
    /** Target, by recovery: the VM was received but not activated before the crash. */
    RECOVERY_RECEIVED_NOT_ACTIVATED(9),
    /** Target (a node): the owner registry refused its move (the source reclaimed the VM first). */
    REGISTRY_REFUSED_MOVE(10),
    /** Source (a node): the target stayed silent, and the owner registry let the source reclaim the VM. */
    RECLAIMED(11),
    /** Target: a hard placement rule or a capacity limit of its own forbids the VM here (checked as it arrives). */
    PLACEMENT_REFUSED(12);

    private static final AbortReason[] BY_CODE;

    static
    {
        int max = 0;
        for (final AbortReason reason : values())
        {
            max = Math.max(max, reason.code);
        }
        BY_CODE = new AbortReason[max + 1];
        for (final AbortReason reason : values())
        {
            if (BY_CODE[reason.code] != null)
            {
                throw new ExceptionInInitializerError("abort reason code " + reason.code + " used twice");
            }
            BY_CODE[reason.code] = reason;
        }
    }

    private final int code;
    private final String label;

    AbortReason(final int code)
    {
        this.code = code;
        this.label = name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    /** @return the code stored on disk. */
    public int code()
    {
        return code;
    }

    /** @return a short lower-case name for tools, e.g. {@code target-did-not-activate}. */
    public String label()
    {
        return label;
    }

    /**
     * @param code a stored code.
     * @return its reason; {@link #UNKNOWN} for 0 (a record from before codes) or a code this reader does not know.
     */
    public static AbortReason of(final int code)
    {
        return code > 0 && code < BY_CODE.length && BY_CODE[code] != null ? BY_CODE[code] : UNKNOWN;
    }
}
