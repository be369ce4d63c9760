package io.vmsched.aeron.registry;

/**
 * The outcome of a registry command, carried in every reply. Codes are part of the wire layout
 * ({@link RegistryMessages}): never renumber one. {@link #UNAUTHENTICATED} is the one status never
 * carried in a reply: the client gives it to the {@link RegistryException} of a connect the registry
 * refused.
 */
public enum RegistryStatus
{
    /** Applied. */
    OK(0, "ok"),
    /** REGISTER: the name belongs to a node whose session is live. */
    NAME_TAKEN(1, "the name is taken by a live node"),
    /** REGISTER: this session already registered another name. */
    SESSION_HAS_NODE(2, "this session already registered another node"),
    /** ADMIT, CAS, MOVE, RECLAIM, REPORT: the calling session registered no node. */
    NOT_REGISTERED(3, "the session has not registered a node"),
    /** ADMIT, CAS: the command would give the VM to a node other than the caller's. */
    NOT_CALLER(4, "a node may only take a VM for itself"),
    /** ADMIT: the VM already has an owner (the reply carries it). */
    EXISTS(5, "the VM already has an owner"),
    /** CAS, MOVE, RECLAIM, QUERY: the VM has no owner. */
    ABSENT(6, "the VM has no owner"),
    /**
     * CAS: the entry is not the (owner, epoch) expected; MOVE: its owner is not the source or the
     * migration is fenced off; RECLAIM: the caller does not own it. The reply carries the entry as it is.
     */
    MISMATCH(7, "the VM's owner, epoch or fence is not the one expected"),
    /** A field out of range, a length that does not add up, an unknown type or version. */
    MALFORMED(8, "malformed command"),
    /** Never in a reply: the registry refused the client's credentials when it connected. */
    UNAUTHENTICATED(9, "the registry refused this client's credentials"),
    /** ADMIT, MOVE, CAS: the VM would break a hard placement rule there (the OWNER reply names the rule's index). */
    RULE(10, "a hard placement rule forbids the VM there"),
    /** PLACE: a statement was refused (the reply says which and why); nothing was applied. */
    REFUSED(11, "the placement change was refused");

    private static final RegistryStatus[] BY_CODE;

    static
    {
        final RegistryStatus[] values = values();
        BY_CODE = new RegistryStatus[values.length];
        for (final RegistryStatus status : values)
        {
            BY_CODE[status.code] = status;
        }
    }

    private final int code;
    private final String description;

    RegistryStatus(final int code, final String description)
    {
        this.code = code;
        this.description = description;
    }

    /** @return the code on the wire. */
    public int code()
    {
        return code;
    }

    /** @return a few words for a user. */
    public String description()
    {
        return description;
    }

    /**
     * @param code a code read from the wire.
     * @return its status, or null for a code this version does not know.
     */
    public static RegistryStatus get(final int code)
    {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
