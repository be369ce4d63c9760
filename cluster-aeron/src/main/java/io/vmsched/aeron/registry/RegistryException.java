package io.vmsched.aeron.registry;

/**
 * A registry call that failed: refused (with the registry's status) or unanswered (no status). The
 * message is one line naming the registry's endpoints.
 */
public final class RegistryException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final transient RegistryStatus status;

    /**
     * @param message one line.
     * @param status  the registry's refusal, or null if it did not answer.
     */
    public RegistryException(final String message, final RegistryStatus status)
    {
        super(message);
        this.status = status;
    }

    /** @return the registry's refusal, or null if the registry did not answer (or the session closed). */
    public RegistryStatus status()
    {
        return status;
    }
}
