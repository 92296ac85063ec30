import { ValidateBy, type ValidationOptions } from 'class-validator';

/**
 * The length of a string in Unicode code points, as PostgreSQL counts the
 * characters of a `varchar(n)` in a UTF-8 database (and MySQL's utf8mb4
 * does). class-validator's `@Length` counts neither that nor graphemes: it
 * drops variation selectors (U+FE0E, U+FE0F) from its count, so 150 × "a\uFE0F"
 * passes `@Length(1, 150)` as 150 and is 300 characters to the column.
 */
export function codePointLength(value: string): number {
  let length = 0;
  for (const _codePoint of value) length += 1;
  return length;
}

/**
 * Checks that a string is `min` to `max` characters long, counted in code
 * points as the database column counts them, so a value the validator
 * accepts is one the column stores.
 */
export function CodePointLength(
  min: number,
  max: number,
  validationOptions?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name: 'codePointLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const length = codePointLength(value);
          return length >= min && length <= max;
        },
        // The messages of class-validator's own @Length, which clients already read.
        defaultMessage: (args) =>
          typeof args?.value === 'string' && codePointLength(args.value) < min
            ? `$property must be longer than or equal to ${min} characters`
            : `$property must be shorter than or equal to ${max} characters`,
      },
    },
    validationOptions,
  );
}

// An unpaired surrogate: no UTF-8 encoding exists for it, so the driver
// would store U+FFFD instead and the text would not read back as sent.
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored as it is, or undefined when it can. */
export function unstorableReason(value: string): string | undefined {
  // PostgreSQL refuses NUL in text ("invalid byte sequence for encoding UTF8: 0x00").
  if (value.includes('\u0000')) return 'must not contain the NUL character (U+0000)';
  if (UNPAIRED_SURROGATE.test(value)) return 'must be valid Unicode (no unpaired surrogate)';
  return undefined;
}

/**
 * Checks that a string is text every supported database stores and reads
 * back unchanged: no NUL character, no unpaired surrogate.
 */
export function IsStorableText(validationOptions?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isStorableText',
      validator: {
        // Non-strings are @IsString's to report.
        validate: (value: unknown) => typeof value !== 'string' || !unstorableReason(value),
        defaultMessage: (args) =>
          `$property ${unstorableReason(String(args?.value)) ?? 'must be storable text'}`,
      },
    },
    validationOptions,
  );
}
