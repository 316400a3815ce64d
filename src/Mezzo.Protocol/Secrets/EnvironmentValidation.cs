using Mezzo.Protocol.V1;

namespace Mezzo.Protocol.Secrets;

/// <summary>Mesos's common::validation::validateEnvironment and validateSecret (src/common/validation.cpp), in its words.</summary>
public static class EnvironmentValidation
{
    public static string? Validate(CommandInfo? command) => Validate(command?.Environment);

    public static string? Validate(EnvironmentInfo? environment)
    {
        foreach (var variable in environment?.Variables ?? [])
        {
            // mesos.proto: `type` defaults to VALUE.
            switch (variable.Type ?? EnvironmentVariableType.VALUE)
            {
                case EnvironmentVariableType.SECRET:
                    if (variable.Secret is null)
                    {
                        return $"Environment variable '{variable.Name}' of type 'SECRET' must have a secret set";
                    }

                    if (variable.Value is not null)
                    {
                        return $"Environment variable '{variable.Name}' of type 'SECRET' must not have a value set";
                    }

                    if (ValidateSecret(variable.Secret) is { } secretError)
                    {
                        return $"Environment variable '{variable.Name}' specifies an invalid secret: {secretError}";
                    }

                    if (variable.Secret.Value?.Data is { } data && Array.IndexOf(data, (byte)0) >= 0)
                    {
                        return $"Environment variable '{variable.Name}' specifies a secret containing null bytes, which is not allowed in the environment";
                    }

                    break;
                case EnvironmentVariableType.VALUE:
                    if (variable.Value is null)
                    {
                        return $"Environment variable '{variable.Name}' of type 'VALUE' must have a value set";
                    }

                    if (variable.Secret is not null)
                    {
                        return $"Environment variable '{variable.Name}' of type 'VALUE' must not have a secret set";
                    }

                    break;
                default:
                    return "Environment variable of type 'UNKNOWN' is not allowed";
            }
        }

        return null;
    }

    public static string? ValidateSecret(Secret secret) => secret.Type switch
    {
        SecretType.REFERENCE when secret.Reference is null => "Secret of type REFERENCE must have the 'reference' field set",
        SecretType.REFERENCE when secret.Value is not null =>
            $"Secret '{secret.Reference.Name}' of type REFERENCE must not have the 'value' field set",
        SecretType.VALUE when secret.Value is null => "Secret of type VALUE must have the 'value' field set",
        SecretType.VALUE when secret.Reference is not null => "Secret of type VALUE must not have the 'reference' field set",
        _ => null,
    };
}
