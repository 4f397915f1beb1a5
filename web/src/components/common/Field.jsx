import React from 'react';

/** A labelled input with its error right below it. */
export default function Field({ label, name, error, ...props }) {
    const id = `f-${name}`;
    return (
        <div className="field">
            <label htmlFor={id}>{label}</label>
            <input
                id={id}
                name={name}
                aria-invalid={!!error}
                aria-describedby={error ? `${id}-err` : undefined}
                {...props}
            />
            {error && (
                <span id={`${id}-err`} className="field-error" data-testid={`error-${name}`}>
                    {error}
                </span>
            )}
        </div>
    );
}

export function ErrorText({ error }) {
    if (!error) return null;
    return (
        <div className="form-error" role="alert">
            {error.message || String(error)}
        </div>
    );
}
