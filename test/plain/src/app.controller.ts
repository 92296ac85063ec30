import { Body, Controller, Get, Param, Post } from '@nestjs/common';
import { IsString, MaxLength } from 'class-validator';

export class CreateNoteDto {
  @IsString()
  @MaxLength(2_000_000)
  text!: string;
}

/** A controller as a user writes one: nothing of the library in it. */
@Controller()
export class AppController {
  @Get()
  hello(): { message: string } {
    return { message: 'Hello World!' };
  }

  @Get('notes/:id')
  note(@Param('id') id: string): { id: string } {
    return { id };
  }

  @Post('notes')
  create(@Body() body: CreateNoteDto): { length: number } {
    return { length: body.text.length };
  }

  /** A call to another service that is down: nothing listens on port 2 here. */
  @Get('upstream')
  async upstream(): Promise<unknown> {
    const response = await fetch('http://127.0.0.1:2/');
    return response.json();
  }

  @Get('slow')
  async slow(): Promise<{ slept: number }> {
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { slept: 300 };
  }
}
