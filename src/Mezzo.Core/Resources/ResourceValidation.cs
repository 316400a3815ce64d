namespace Mezzo.Core.Resources;

/// <summary>Mesos's resource and role validation rules; every message says what is wrong.</summary>
public static class ResourceValidation
{
    public static string? ValidateName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "Empty resource name";
        }

        if (name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '(' or ')' or ':' or ';' or '[' or ']' or '{' or '}'))
        {
            return $"Resource name '{name}' contains invalid characters";
        }

        return null;
    }

    /// <summary>
    /// Role names as in Mesos's <c>roles::validate</c> (src/common/roles.cpp): "*" or a path of components separated by
    /// '/', none of which is empty, ".", "..", "*", starts with '-' or contains whitespace or control characters (Mesos
    /// rejects ASCII whitespace and DEL; we also reject the other control characters). '*' and '\' inside a component
    /// ("a*b") are legal in Mesos and so here.
    /// </summary>
    public static string? ValidateRole(string? role)
    {
        if (string.IsNullOrEmpty(role))
        {
            return "Empty role name is invalid";
        }

        if (role == "*")
        {
            return null;
        }

        foreach (var component in role.Split('/'))
        {
            if (component.Length == 0)
            {
                return $"Role '{role}' cannot start or end with '/' or contain '//'";
            }

            if (component is "." or ".." or "*")
            {
                return $"Role '{role}' cannot contain '{component}' as a path component";
            }

            if (component[0] == '-')
            {
                return $"Role '{role}' cannot have a path component starting with '-'";
            }

            if (component.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            {
                return $"Role '{role}' contains invalid characters (whitespace or control characters)";
            }
        }

        return null;
    }

    public static string? Validate(Resource resource)
    {
        if (ValidateName(resource.Name) is { } nameError)
        {
            return nameError;
        }

        if (resource.Type == ResourceType.Scalar && resource.ScalarMilli < 0)
        {
            return $"Resource '{resource.Name}' has a negative value";
        }

        if (resource.Type == ResourceType.Set && resource.Set.Any(string.IsNullOrEmpty))
        {
            return $"Resource '{resource.Name}' has an empty set item";
        }

        if (resource.AllocationRole is { } allocation && ValidateRole(allocation) is { } allocationError)
        {
            return allocationError;
        }

        foreach (var reservation in resource.Reservations)
        {
            if (reservation.Role == "*")
            {
                return $"Resource '{resource.Name}' cannot be reserved to role '*'";
            }

            if (ValidateRole(reservation.Role) is { } roleError)
            {
                return roleError;
            }
        }

        return null;
    }

    /// <summary>Each resource valid, and one name never used with two types (Mesos rejects "ports:[1-2];ports:3").</summary>
    public static string? Validate(IEnumerable<Resource> resources)
    {
        var types = new Dictionary<string, ResourceType>(StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            if (Validate(resource) is { } error)
            {
                return error;
            }

            if (types.TryGetValue(resource.Name, out var type) && type != resource.Type)
            {
                return $"Resources with the same name ('{resource.Name}') but different types are not allowed";
            }

            types[resource.Name] = resource.Type;
        }

        return null;
    }
}
