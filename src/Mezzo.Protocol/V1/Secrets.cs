namespace Mezzo.Protocol.V1;

public enum SecretType
{
    UNKNOWN = 0,
    REFERENCE = 1,
    VALUE = 2,
}

/// <summary>mesos.proto's <c>Secret.Reference</c>: <c>name</c> names a secret in the agent's store, <c>key</c> one entry of it.</summary>
public sealed class SecretReference
{
    public string? Name { get; set; }

    public string? Key { get; set; }
}

/// <summary>mesos.proto's <c>Secret.Value</c>: the secret itself (bytes, base64 in JSON).</summary>
public sealed class SecretValue
{
    public byte[]? Data { get; set; }
}

/// <summary>mesos.proto's <c>Secret</c>: exactly one of <see cref="Reference"/> and <see cref="Value"/>, as its type says.</summary>
public sealed class Secret
{
    public SecretType? Type { get; set; }

    public SecretReference? Reference { get; set; }

    public SecretValue? Value { get; set; }
}
