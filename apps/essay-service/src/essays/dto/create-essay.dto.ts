import { Transform } from 'class-transformer';
import { IsISO6391, IsOptional, IsString, Matches } from 'class-validator';
import { CodePointLength, IsStorableText } from './storable-text.validators.js';

/** The body of `POST /essays`. */
export class CreateEssayDto {
  /**
   * 1 to 200 characters (code points, as the `varchar(200)` column counts
   * them), not only spaces, no NUL character or unpaired surrogate.
   */
  @IsString()
  @CodePointLength(1, 200)
  @IsStorableText()
  @Matches(/\S/, { message: 'title must not be blank' })
  title!: string;

  /**
   * 1 to 100,000 characters (code points, the title's rule), not only
   * spaces, no NUL character or unpaired surrogate.
   */
  @IsString()
  @CodePointLength(1, 100_000)
  @IsStorableText()
  @Matches(/\S/, { message: 'text must not be blank' })
  text!: string;

  /** The essay's language as an ISO 639-1 code (`en`, `sv`), any case. */
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' ? value.trim().toLowerCase() : value,
  )
  @IsISO6391({ message: 'language must be an ISO 639-1 code such as en or sv' })
  language?: string;
}
