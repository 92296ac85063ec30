import 'reflect-metadata';

const SECRET_SETTINGS = Symbol('nestjs-production-readiness:secret-settings');

/**
 * Marks a setting whose value must never be printed: not in configuration
 * errors and not in the settings logged at startup. URL settings keep their
 * scheme, host and path and lose only the password.
 */
export function SecretSetting(): PropertyDecorator {
  return (target, propertyKey) => {
    const own: Set<string | symbol> = Reflect.hasOwnMetadata(SECRET_SETTINGS, target)
      ? (Reflect.getOwnMetadata(SECRET_SETTINGS, target) as Set<string | symbol>)
      : new Set(secretSettingsOf(target));
    own.add(propertyKey);
    Reflect.defineMetadata(SECRET_SETTINGS, own, target);
  };
}

/** The names of the secret settings of a config class, its ancestors' included. */
export function secretSettingsOf(prototype: object): Set<string | symbol> {
  // getMetadata walks the prototype chain, so subclasses see their parents' secrets.
  const found = Reflect.getMetadata(SECRET_SETTINGS, prototype) as Set<string | symbol> | undefined;
  return new Set(found ?? []);
}
