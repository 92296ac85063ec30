import { Transform } from 'class-transformer';
import { IsISO6391, IsOptional, IsString, Length, Matches } from 'class-validator';

/** The body of `POST /essays`. */
export class CreateEssayDto {
  /** 1 to 200 characters, not only spaces. */
  @IsString()
  @Length(1, 200)
  @Matches(/\S/, { message: 'title must not be blank' })
  title!: string;

  /** 1 to 100,000 characters, not only spaces. */
  @IsString()
  @Length(1, 100_000)
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
