import React, { useState } from 'react';
import Field from '../common/Field.jsx';
import { useApi, useAuth } from '../../state/store.jsx';
import { go } from '../../router.js';

/** Register or log in; a server error is shown next to the field it names. */
export default function AuthPage({ mode }) {
    const api = useApi();
    const { auth, dispatch } = useAuth();
    const [username, setUsername] = useState('');
    const [password, setPassword] = useState('');
    const register = mode === 'register';

    function localCheck() {
        if (register && !/^[A-Za-z0-9][A-Za-z0-9_-]{2,23}$/.test(username)) {
            return { field: 'username', message: '3–24 letters, digits, _ or -, starting with a letter or digit' };
        }
        if (register && (password.length < 8 || password.length > 128))
            return { field: 'password', message: 'at least 8 characters' };
        if (!username) return { field: 'username', message: 'required' };
        if (!password) return { field: 'password', message: 'required' };
        return null;
    }

    async function submit(e) {
        e.preventDefault();
        const bad = localCheck();
        if (bad) return dispatch({ type: 'auth/failed', ...bad });
        dispatch({ type: 'auth/pending' });
        try {
            const r = register ? await api.register(username, password) : await api.login(username, password);
            dispatch({ type: 'auth/loggedIn', user: r.user });
            go('/lobby');
        } catch (err) {
            const field = err.code === 'username_taken' ? 'username' : err.field;
            dispatch({
                type: 'auth/failed',
                field,
                message: err.code === 'bad_credentials' ? 'Wrong username or password' : err.message,
            });
        }
        return undefined;
    }

    return (
        <div className="page" style={{ maxWidth: 420 }}>
            <h1>{register ? 'Create an account' : 'Log in'}</h1>
            <form onSubmit={submit} className="card" noValidate>
                <Field
                    label="Username"
                    name="username"
                    value={username}
                    autoComplete="username"
                    onChange={(e) => setUsername(e.target.value)}
                    error={auth.errors.username}
                />
                <Field
                    label="Password"
                    name="password"
                    type="password"
                    value={password}
                    autoComplete={register ? 'new-password' : 'current-password'}
                    onChange={(e) => setPassword(e.target.value)}
                    error={auth.errors.password}
                />
                {auth.errors.form && (
                    <div className="form-error" role="alert" data-testid="error-form">
                        {auth.errors.form}
                    </div>
                )}
                <button type="submit" disabled={auth.pending}>
                    {register ? 'Register' : 'Log in'}
                </button>
                <p className="muted">
                    {register ? (
                        <>
                            Have an account? <a href="#/login">Log in</a>
                        </>
                    ) : (
                        <>
                            New here? <a href="#/register">Register</a>
                        </>
                    )}
                </p>
            </form>
        </div>
    );
}
